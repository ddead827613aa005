/**
 * The one route table. API Gateway routes (infra/), the local gateway
 * (lib/local/gateway.ts), the authorizer's permission check and docs/API.md
 * are all generated from this list, so they cannot drift apart.
 *
 * Paths use API Gateway's `{param}` syntax, relative to the vault's host.
 */
export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Route {
  /** The specification's operationId. */
  readonly operationId: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** Entry file of the Lambda handler, relative to the repository root. */
  readonly handler: string;
  /** data: on a vault's host; management: on the bare domain (vaults, deployment roles). */
  readonly plane: 'data' | 'management';
  /**
   * What the caller needs. Data plane: the access-policy permission ('secrets/get').
   * Management plane: the deployment action ('vaults/write').
   */
  readonly permission: string;
  /** Data plane: the RBAC data action (or, for role assignment management, the action) it needs. */
  readonly dataAction?: string;
  /** Object-scoped routes: the collection whose `{name}` names the object a role may be scoped to. */
  readonly objectScope?: 'secrets' | 'keys' | 'certificates';
  /**
   * List routes: a caller whose roles are scoped to some objects of this
   * collection only may list, and sees those objects only.
   */
  readonly listScope?: 'secrets' | 'keys' | 'certificates';
  /** operationName in the audit record (Azure's AuditEvent names). */
  readonly auditOperation: string;
  readonly summary: string;
}

const KV = 'Microsoft.KeyVault/vaults';

/** Secrets routes: the access-policy permission and the RBAC data action, as Azure names them. */
const SECRET_ACTIONS: Record<string, string> = {
  get: 'getSecret/action',
  list: 'readMetadata/action',
  set: 'setSecret/action',
  update: 'update/action',
  delete: 'delete',
  recover: 'recover/action',
  backup: 'backup/action',
  restore: 'restore/action',
  purge: 'purge/action',
};

const secrets = (
  operationId: string,
  method: HttpMethod,
  path: string,
  file: string,
  permission: string,
  auditOperation: string,
  summary: string,
  action: keyof typeof SECRET_ACTIONS = permission,
): Route => ({
  operationId,
  method,
  path,
  handler: `functions/secrets/${file}.ts`,
  plane: 'data',
  permission: `secrets/${permission}`,
  dataAction: `${KV}/secrets/${SECRET_ACTIONS[action]}`,
  ...(path.includes('{name}') && { objectScope: 'secrets' as const }),
  ...(action === 'list' && !path.includes('{name}') && { listScope: 'secrets' as const }),
  auditOperation,
  summary,
});

/**
 * Keys routes: the access-policy permission and the RBAC data action, as Azure
 * names them (rotation policies have data actions of their own).
 */
const KEY_ACTIONS: Record<string, string> = {
  get: 'keys/read',
  list: 'keys/read',
  create: 'keys/create/action',
  import: 'keys/import/action',
  update: 'keys/update/action',
  delete: 'keys/delete',
  recover: 'keys/recover/action',
  backup: 'keys/backup/action',
  restore: 'keys/restore/action',
  purge: 'keys/purge/action',
  rotate: 'keys/rotate/action',
  encrypt: 'keys/encrypt/action',
  decrypt: 'keys/decrypt/action',
  wrapKey: 'keys/wrap/action',
  unwrapKey: 'keys/unwrap/action',
  sign: 'keys/sign/action',
  verify: 'keys/verify/action',
  getrotationpolicy: 'keyrotationpolicies/read',
  setrotationpolicy: 'keyrotationpolicies/write',
};

const keys = (
  operationId: string,
  method: HttpMethod,
  path: string,
  file: string,
  permission: string,
  auditOperation: string,
  summary: string,
): Route => ({
  operationId,
  method,
  path,
  handler: `functions/keys/${file}.ts`,
  plane: 'data',
  permission: `keys/${permission}`,
  dataAction: `${KV}/${KEY_ACTIONS[permission]}`,
  ...(path.includes('{name}') && { objectScope: 'keys' as const }),
  ...(permission === 'list' && !path.includes('{name}') && { listScope: 'keys' as const }),
  auditOperation,
  summary,
});

const KVA = 'Microsoft.Authorization';

/** Role assignment and definition routes (the Managed HSM data-plane shape), at vault or object scope. */
const rbac = (
  operationId: string,
  method: HttpMethod,
  suffix: string,
  file: string,
  action: string,
  auditOperation: string,
  summary: string,
): Route[] =>
  (['', '/secrets/{name}', '/keys/{name}', '/certificates/{name}'] as const).map((scope) => ({
    operationId,
    method,
    path: `${scope}/providers/${KVA}/${suffix}`,
    handler: `functions/access/${file}.ts`,
    plane: 'data',
    permission: `rbac/${action}`,
    dataAction: `${KVA}/${suffix.split('/')[0]}/${action}`,
    ...(scope && { objectScope: scope.split('/')[1] as Route['objectScope'] }),
    auditOperation,
    summary,
  }));

const vaults = (
  operationId: string,
  method: HttpMethod,
  path: string,
  file: string,
  permission: string,
  auditOperation: string,
  summary: string,
): Route => ({
  operationId,
  method,
  path,
  handler: `functions/vaults/${file}.ts`,
  plane: 'management',
  permission: `vaults/${permission}`,
  auditOperation,
  summary,
});

// biome-ignore format: one route a line reads as a table
export const routes: readonly Route[] = [
  secrets('GetSecrets', 'GET', '/secrets', 'list-secrets', 'list', 'SecretList', 'List secrets (no values).'),
  secrets('SetSecret', 'PUT', '/secrets/{name}', 'set-secret', 'set', 'SecretSet', 'Create a secret or a new version of it.'),
  secrets('DeleteSecret', 'DELETE', '/secrets/{name}', 'delete-secret', 'delete', 'SecretDelete', 'Soft-delete a secret with all its versions.'),
  secrets('GetSecret', 'GET', '/secrets/{name}', 'get-secret', 'get', 'SecretGet', 'Get the latest version of a secret.'),
  secrets('GetSecret', 'GET', '/secrets/{name}/{version}', 'get-secret', 'get', 'SecretGet', 'Get a version of a secret (an empty version means the latest).'),
  secrets('UpdateSecret', 'PATCH', '/secrets/{name}/{version}', 'update-secret', 'set', 'SecretUpdate', 'Update the attributes, tags or content type of a version.', 'update'),
  secrets('GetSecretVersions', 'GET', '/secrets/{name}/versions', 'list-secret-versions', 'list', 'SecretListVersions', 'List the versions of a secret (no values).'),
  secrets('BackupSecret', 'POST', '/secrets/{name}/backup', 'backup-secret', 'backup', 'SecretBackup', 'Export a sealed backup of every version.'),
  secrets('RestoreSecret', 'POST', '/secrets/restore', 'restore-secret', 'restore', 'SecretRestore', 'Restore a secret from a backup.'),
  secrets('GetDeletedSecrets', 'GET', '/deletedsecrets', 'list-deleted-secrets', 'list', 'SecretListDeleted', 'List soft-deleted secrets.'),
  secrets('GetDeletedSecret', 'GET', '/deletedsecrets/{name}', 'get-deleted-secret', 'get', 'SecretGetDeleted', 'Get a soft-deleted secret (no value).', 'list'),
  secrets('PurgeDeletedSecret', 'DELETE', '/deletedsecrets/{name}', 'purge-deleted-secret', 'purge', 'SecretPurge', 'Purge a soft-deleted secret for good.'),
  secrets('RecoverDeletedSecret', 'POST', '/deletedsecrets/{name}/recover', 'recover-deleted-secret', 'recover', 'SecretRecover', 'Recover a soft-deleted secret.'),

  keys('GetKeys', 'GET', '/keys', 'list-keys', 'list', 'KeyList', 'List keys (no key material).'),
  keys('CreateKey', 'POST', '/keys/{name}/create', 'create-key', 'create', 'KeyCreate', 'Create a key, or a new version of it.'),
  keys('ImportKey', 'PUT', '/keys/{name}', 'import-key', 'import', 'KeyImport', 'Import a JWK as a key, or a new version of it.'),
  keys('GetKey', 'GET', '/keys/{name}', 'get-key', 'get', 'KeyGet', 'Get the public part of the latest version of a key.'),
  keys('GetKey', 'GET', '/keys/{name}/{version}', 'get-key', 'get', 'KeyGet', 'Get the public part of a version (an empty version means the latest).'),
  keys('UpdateKey', 'PATCH', '/keys/{name}/{version}', 'update-key', 'update', 'KeyUpdate', 'Update the key_ops, attributes or tags of a version.'),
  keys('GetKeyVersions', 'GET', '/keys/{name}/versions', 'list-key-versions', 'list', 'KeyListVersions', 'List the versions of a key.'),
  keys('encrypt', 'POST', '/keys/{name}/{version}/encrypt', 'encrypt', 'encrypt', 'KeyEncrypt', 'Encrypt one block with a key version.'),
  keys('decrypt', 'POST', '/keys/{name}/{version}/decrypt', 'decrypt', 'decrypt', 'KeyDecrypt', 'Decrypt one block with a key version.'),
  keys('sign', 'POST', '/keys/{name}/{version}/sign', 'sign', 'sign', 'KeySign', 'Sign a digest with a key version.'),
  keys('verify', 'POST', '/keys/{name}/{version}/verify', 'verify', 'verify', 'KeyVerify', 'Verify a signature over a digest.'),
  keys('wrapKey', 'POST', '/keys/{name}/{version}/wrapkey', 'wrap-key', 'wrapKey', 'KeyWrap', 'Wrap a symmetric key.'),
  keys('unwrapKey', 'POST', '/keys/{name}/{version}/unwrapkey', 'unwrap-key', 'unwrapKey', 'KeyUnwrap', 'Unwrap a symmetric key.'),
  keys('GetKeyRotationPolicy', 'GET', '/keys/{name}/rotationpolicy', 'get-key-rotation-policy', 'getrotationpolicy', 'KeyRotationPolicyGet', "Get a key's rotation policy."),
  keys('UpdateKeyRotationPolicy', 'PUT', '/keys/{name}/rotationpolicy', 'update-key-rotation-policy', 'setrotationpolicy', 'KeyRotationPolicyUpdate', "Set a key's rotation policy."),
  keys('RotateKey', 'POST', '/keys/{name}/rotate', 'rotate-key', 'rotate', 'KeyRotate', 'Make a new version with the same type and size.'),
  keys('BackupKey', 'POST', '/keys/{name}/backup', 'backup-key', 'backup', 'KeyBackup', 'Export a sealed backup of every version.'),
  keys('DeleteKey', 'DELETE', '/keys/{name}', 'delete-key', 'delete', 'KeyDelete', 'Soft-delete a key with all its versions.'),
  keys('GetDeletedKeys', 'GET', '/deletedkeys', 'list-deleted-keys', 'list', 'KeyListDeleted', 'List soft-deleted keys.'),
  keys('GetDeletedKey', 'GET', '/deletedkeys/{name}', 'get-deleted-key', 'get', 'KeyGetDeleted', 'Get a soft-deleted key (public part).'),
  keys('PurgeDeletedKey', 'DELETE', '/deletedkeys/{name}', 'purge-deleted-key', 'purge', 'KeyPurge', 'Purge a soft-deleted key for good.'),
  keys('RestoreKey', 'POST', '/keys/restore', 'restore-key', 'restore', 'KeyRestore', 'Restore a key from a backup.'),
  keys('RecoverDeletedKey', 'POST', '/deletedkeys/{name}/recover', 'recover-deleted-key', 'recover', 'KeyRecover', 'Recover a soft-deleted key.'),
  keys('GetRandomBytes', 'POST', '/rng', 'get-random-bytes', 'get', 'KeyRandomBytes', 'Random bytes (1 to 128) from the vault.'),

  ...rbac('RoleAssignments_Create', 'PUT', 'roleAssignments/{assignment}', 'create-role-assignment', 'write', 'RoleAssignmentCreate', 'Assign a role to a principal at this scope.'),
  ...rbac('RoleAssignments_Get', 'GET', 'roleAssignments/{assignment}', 'get-role-assignment', 'read', 'RoleAssignmentGet', 'Get a role assignment.'),
  ...rbac('RoleAssignments_Delete', 'DELETE', 'roleAssignments/{assignment}', 'delete-role-assignment', 'delete', 'RoleAssignmentDelete', 'Delete a role assignment.'),
  ...rbac('RoleAssignments_ListForScope', 'GET', 'roleAssignments', 'list-role-assignments', 'read', 'RoleAssignmentList', 'List the role assignments at or above this scope.'),
  ...rbac('RoleDefinitions_List', 'GET', 'roleDefinitions', 'list-role-definitions', 'read', 'RoleDefinitionList', 'List the built-in role definitions.').slice(0, 1),

  vaults('Vaults_CreateOrUpdate', 'PUT', '/vaults/{vault}', 'create-or-update-vault', 'write', 'VaultPut', 'Create a vault, or replace its properties.'),
  vaults('Vaults_Update', 'PATCH', '/vaults/{vault}', 'update-vault', 'write', 'VaultPatch', 'Update some properties of a vault.'),
  vaults('Vaults_Get', 'GET', '/vaults/{vault}', 'get-vault', 'read', 'VaultGet', 'Get a vault.'),
  vaults('Vaults_List', 'GET', '/vaults', 'list-vaults', 'read', 'VaultList', 'List vaults.'),
  vaults('Vaults_Delete', 'DELETE', '/vaults/{vault}', 'delete-vault', 'delete', 'VaultDelete', 'Soft-delete a vault.'),
  vaults('Vaults_UpdateAccessPolicy', 'PUT', '/vaults/{vault}/accessPolicies/{operationKind}', 'update-access-policy', 'write', 'VaultAccessPolicyUpdate', 'Add, replace or remove access policies (operationKind add | replace | remove).'),
  vaults('Vaults_ListDeleted', 'GET', '/deletedVaults', 'list-deleted-vaults', 'read', 'VaultListDeleted', 'List soft-deleted vaults.'),
  vaults('Vaults_GetDeleted', 'GET', '/deletedVaults/{vault}', 'get-deleted-vault', 'read', 'VaultGetDeleted', 'Get a soft-deleted vault.'),
  vaults('Vaults_Recover', 'POST', '/deletedVaults/{vault}/recover', 'recover-deleted-vault', 'write', 'VaultRecover', 'Recover a soft-deleted vault.'),
  { ...vaults('AuditEvents_List', 'GET', '/vaults/{vault}/auditEvents', 'list-audit-events', 'read', 'AuditEventList', "Query a vault's audit records by time, operation, caller and result."), permission: 'audit/read', handler: 'functions/audit/list-audit-events.ts' },
  { ...vaults('HsmHealth_Get', 'GET', '/health/hsm', 'get-hsm-health', 'read', 'HsmHealthGet', "The HSM's health: the CloudHSM cluster's state, or the PKCS#11 token's."), handler: 'functions/health/get-hsm-health.ts' },
  vaults('Vaults_PurgeDeleted', 'POST', '/deletedVaults/{vault}/purge', 'purge-deleted-vault', 'purge', 'VaultPurge', 'Purge a soft-deleted vault and everything in it.'),
];

/** One Lambda function per handler file (some serve several routes). */
export function handlerFiles(): string[] {
  return [...new Set(routes.map((r) => r.handler))];
}
