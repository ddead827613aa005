/**
 * The built-in Key Vault role definitions, with Azure's ids, names and data
 * actions. `actions` carries the control-plane rights Arca checks for role
 * assignment management.
 */
export interface RoleDefinition {
  readonly id: string;
  readonly roleName: string;
  readonly description: string;
  readonly actions: readonly string[];
  readonly dataActions: readonly string[];
}

const KV = 'Microsoft.KeyVault/vaults';
const ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';
/** Azure's officer and reader roles may read role assignments and definitions. */
const READ_AUTHORIZATION = 'Microsoft.Authorization/*/read';

export const ROLE_DEFINITIONS: readonly RoleDefinition[] = [
  {
    id: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
    roleName: 'Key Vault Administrator',
    description:
      'Perform all data plane operations on a key vault and all objects in it, and manage its role assignments.',
    // Managing assignments is Arca's (as Managed HSM Administrator's); Azure's vault role only reads them.
    actions: [READ_AUTHORIZATION, `${ASSIGNMENTS}/*`],
    dataActions: [`${KV}/*`],
  },
  {
    id: '21090545-7ca7-4776-b22c-e363652d74d2',
    roleName: 'Key Vault Reader',
    description:
      'Read metadata of key vaults and their certificates, keys and secrets. Cannot read secret values.',
    actions: [READ_AUTHORIZATION],
    dataActions: [`${KV}/*/read`, `${KV}/secrets/readMetadata/action`],
  },
  {
    id: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
    roleName: 'Key Vault Secrets Officer',
    description: 'Perform any action on the secrets of a key vault.',
    actions: [READ_AUTHORIZATION],
    dataActions: [`${KV}/secrets/*`],
  },
  {
    id: '4633458b-17de-408a-b874-0445c86b69e6',
    roleName: 'Key Vault Secrets User',
    description: 'Read secret contents.',
    actions: [],
    dataActions: [`${KV}/secrets/getSecret/action`, `${KV}/secrets/readMetadata/action`],
  },
  {
    id: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
    roleName: 'Key Vault Crypto Officer',
    description: 'Perform any action on the keys of a key vault.',
    actions: [READ_AUTHORIZATION],
    dataActions: [`${KV}/keys/*`, `${KV}/keyrotationpolicies/*`],
  },
  {
    id: '12338af0-0e69-4776-bea7-57ae8d297424',
    roleName: 'Key Vault Crypto User',
    description: 'Perform cryptographic operations using keys.',
    actions: [],
    dataActions: [
      `${KV}/keys/read`,
      `${KV}/keys/update/action`,
      `${KV}/keys/backup/action`,
      `${KV}/keys/encrypt/action`,
      `${KV}/keys/decrypt/action`,
      `${KV}/keys/wrap/action`,
      `${KV}/keys/unwrap/action`,
      `${KV}/keys/sign/action`,
      `${KV}/keys/verify/action`,
    ],
  },
  {
    id: 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
    roleName: 'Key Vault Crypto Service Encryption User',
    description: 'Read metadata of keys and perform wrap/unwrap operations.',
    actions: [],
    dataActions: [`${KV}/keys/read`, `${KV}/keys/wrap/action`, `${KV}/keys/unwrap/action`],
  },
  {
    id: 'a4417e6f-fecd-4de8-b567-7b0420556985',
    roleName: 'Key Vault Certificates Officer',
    description: 'Perform any action on the certificates of a key vault.',
    actions: [READ_AUTHORIZATION],
    dataActions: [`${KV}/certificatecas/*`, `${KV}/certificates/*`, `${KV}/certificatecontacts/write`],
  },
  {
    id: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
    roleName: 'Key Vault Certificate User',
    description: 'Read entire certificate contents including secret and key portion.',
    actions: [],
    dataActions: [
      `${KV}/certificates/read`,
      `${KV}/secrets/getSecret/action`,
      `${KV}/secrets/readMetadata/action`,
      `${KV}/keys/read`,
    ],
  },
  {
    id: '8b54135c-b56d-4d72-a534-26097cfdc8d8',
    roleName: 'Key Vault Data Access Administrator',
    description: 'Manage access to a key vault by adding or removing role assignments.',
    actions: [READ_AUTHORIZATION, `${ASSIGNMENTS}/write`, `${ASSIGNMENTS}/delete`],
    dataActions: [],
  },
];

export function findRoleDefinition(idOrName: string): RoleDefinition | undefined {
  const wanted = idOrName.toLowerCase().split('/').pop() ?? '';
  return ROLE_DEFINITIONS.find((r) => r.id === wanted || r.roleName.toLowerCase() === idOrName.toLowerCase());
}

/** Azure's wildcard rule: `*` stands for any run of characters; case does not matter. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i');
  return regex.test(action);
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
