import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Route, routes } from '#lib/http/routes.ts';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/**
 * The allow/deny matrix: every route of the route table × principals holding
 * nothing, a built-in role, an object-scoped role or a one-permission access
 * policy, each cell asserting the exact status.
 *
 * Every expectation here is written by hand from Azure's documentation (the
 * built-in role definitions, the access-policy permission each operation
 * needs, Key Vault's soft-delete semantics), never derived from
 * lib/authz or lib/vaults/role-definitions.ts, so a wrong implementation
 * fails this test. A route added to the table without an entry in OPERATIONS
 * below fails it too.
 */

// ---------------------------------------------------------------------------------------------------------
// Azure's action names (the RBAC side) and what each built-in role holds.
// ---------------------------------------------------------------------------------------------------------

const S = 'Microsoft.KeyVault/vaults/secrets';
const K = 'Microsoft.KeyVault/vaults/keys';
const KRP = 'Microsoft.KeyVault/vaults/keyrotationpolicies';
const RA = 'Microsoft.Authorization/roleAssignments';
const RD = 'Microsoft.Authorization/roleDefinitions';

const GET_SECRET = `${S}/getSecret/action`;
const READ_METADATA = `${S}/readMetadata/action`;
const SET_SECRET = `${S}/setSecret/action`;
const UPDATE_SECRET = `${S}/update/action`;
const DELETE_SECRET = `${S}/delete`;
const BACKUP_SECRET = `${S}/backup/action`;
const RESTORE_SECRET = `${S}/restore/action`;
const RECOVER_SECRET = `${S}/recover/action`;
const PURGE_SECRET = `${S}/purge/action`;
/** What `Microsoft.KeyVault/vaults/secrets/*` covers. */
const EVERY_SECRET_ACTION = [
  GET_SECRET,
  READ_METADATA,
  SET_SECRET,
  UPDATE_SECRET,
  DELETE_SECRET,
  BACKUP_SECRET,
  RESTORE_SECRET,
  RECOVER_SECRET,
  PURGE_SECRET,
];
const READ_KEY = `${K}/read`;
const CREATE_KEY = `${K}/create/action`;
const IMPORT_KEY = `${K}/import/action`;
const UPDATE_KEY = `${K}/update/action`;
const DELETE_KEY = `${K}/delete`;
const BACKUP_KEY = `${K}/backup/action`;
const RESTORE_KEY = `${K}/restore/action`;
const RECOVER_KEY = `${K}/recover/action`;
const PURGE_KEY = `${K}/purge/action`;
const ROTATE_KEY = `${K}/rotate/action`;
const ENCRYPT = `${K}/encrypt/action`;
const DECRYPT = `${K}/decrypt/action`;
const WRAP = `${K}/wrap/action`;
const UNWRAP = `${K}/unwrap/action`;
const SIGN = `${K}/sign/action`;
const VERIFY = `${K}/verify/action`;
const READ_ROTATION_POLICY = `${KRP}/read`;
const WRITE_ROTATION_POLICY = `${KRP}/write`;
/** What `Microsoft.KeyVault/vaults/keys/*` covers (among the actions these routes can need). */
const EVERY_KEY_ACTION = [
  READ_KEY,
  CREATE_KEY,
  IMPORT_KEY,
  UPDATE_KEY,
  DELETE_KEY,
  BACKUP_KEY,
  RESTORE_KEY,
  RECOVER_KEY,
  PURGE_KEY,
  ROTATE_KEY,
  ENCRYPT,
  DECRYPT,
  WRAP,
  UNWRAP,
  SIGN,
  VERIFY,
];
/** What `Microsoft.KeyVault/vaults/keyrotationpolicies/*` covers. */
const EVERY_ROTATION_POLICY_ACTION = [READ_ROTATION_POLICY, WRITE_ROTATION_POLICY];
/** What `Microsoft.Authorization/*\/read` covers (roles hold it among their control-plane `actions`). */
const AUTHORIZATION_READ = [`${RA}/read`, `${RD}/read`];
const ROLE_ASSIGNMENT_WRITE = [`${RA}/write`, `${RA}/delete`];

/**
 * The built-in roles, from Azure's role definitions (Azure's JSON, condensed to
 * the actions these routes can need):
 * - Key Vault Reader: actions Microsoft.Authorization/*\/read …; dataActions vaults/*\/read and
 *   secrets/readMetadata/action. Never a secret's value; of keys, what vaults/*\/read matches:
 *   keys/read and keyrotationpolicies/read.
 * - Key Vault Secrets User: no actions; dataActions secrets/getSecret/action, secrets/readMetadata/action.
 * - Key Vault Secrets Officer: actions Microsoft.Authorization/*\/read …; dataActions secrets/*.
 *   Nothing on keys.
 * - Key Vault Crypto Officer: actions Microsoft.Authorization/*\/read …; dataActions keys/* and
 *   keyrotationpolicies/*. Nothing on secrets.
 * - Key Vault Crypto User: no actions; dataActions keys/read, keys/update/action, keys/backup/action,
 *   keys/encrypt/action, keys/decrypt/action, keys/wrap/action, keys/unwrap/action,
 *   keys/sign/action, keys/verify/action. Not create, import, delete, rotate, restore, recover,
 *   purge, nor the rotation policy.
 * - Key Vault Administrator: actions Microsoft.Authorization/*\/read …; dataActions vaults/*
 *   (every secret, key and rotation policy action).
 *   Arca extends it: with no ARM plane, the vault's administrator also writes and deletes role
 *   assignments (as a Managed HSM Administrator does). In Azure it "cannot manage role assignments".
 */
const ROLES = {
  reader: [READ_METADATA, READ_KEY, READ_ROTATION_POLICY, ...AUTHORIZATION_READ],
  secretsUser: [GET_SECRET, READ_METADATA],
  secretsOfficer: [...EVERY_SECRET_ACTION, ...AUTHORIZATION_READ],
  cryptoOfficer: [...EVERY_KEY_ACTION, ...EVERY_ROTATION_POLICY_ACTION, ...AUTHORIZATION_READ],
  cryptoUser: [READ_KEY, UPDATE_KEY, BACKUP_KEY, ENCRYPT, DECRYPT, WRAP, UNWRAP, SIGN, VERIFY],
  administrator: [
    ...EVERY_SECRET_ACTION,
    ...EVERY_KEY_ACTION,
    ...EVERY_ROTATION_POLICY_ACTION,
    ...AUTHORIZATION_READ,
    ...ROLE_ASSIGNMENT_WRITE,
  ],
};

const ROLE_IDS = {
  administrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  reader: '21090545-7ca7-4776-b22c-e363652d74d2',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  cryptoOfficer: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  cryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
};

// ---------------------------------------------------------------------------------------------------------
// The outcome model: what each operation needs, and what it answers when allowed.
// ---------------------------------------------------------------------------------------------------------

type SecretState = 'absent' | 'live' | 'deleted';
type KeyState = 'absent' | 'live' | 'deleted';
type VaultState = 'absent' | 'live' | 'deleted';

/**
 * One principal's world: its own secret, its own key (and whether it holds a
 * backup of it), and (for the deployment administrator) its own vault.
 */
interface World {
  secret: SecretState;
  key: KeyState;
  keyBackup: boolean;
  vault: VaultState;
}

interface Outcome {
  readonly status: number;
  readonly secret?: SecretState;
  readonly key?: KeyState;
  readonly keyBackup?: boolean;
  readonly vault?: VaultState;
}

interface RequestContext {
  readonly tenantId: string;
  readonly secretValue: string;
  readonly principalObjectId: string;
  /** The body of this principal's last 200 answer of each operation (a ciphertext to decrypt …). */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies read member by member
  readonly answers: Readonly<Record<string, any>>;
}

interface Operation {
  /** Every `METHOD path` this operation is served on. */
  readonly paths: readonly string[];
  /**
   * Data plane: the access-policy permission Azure documents for it (also what the
   * route table must say). Management plane: the deployment action.
   */
  readonly permission: string;
  /** Data plane: the RBAC action Azure names for it. */
  readonly action?: string;
  /** A list that a principal with object-scoped roles (in this collection) only may call, seeing its objects only. */
  readonly list?: 'secrets' | 'keys';
  readonly body?: (context: RequestContext) => string;
  /** The answer when the caller is allowed, given the state so far (routes run in table order). */
  readonly outcome: (world: World, route: Route) => Outcome;
}

/** The role assignment scopes: the vault and one object of each kind. */
const RBAC_SCOPES = ['', '/secrets/{name}', '/keys/{name}', '/certificates/{name}'];
const AUTHZ = '/providers/Microsoft.Authorization';
const rbacPaths = (method: string, suffix: string, scopes = RBAC_SCOPES) =>
  scopes.map((scope) => `${method} ${scope}${AUTHZ}/${suffix}`);

const ifLive = (world: World, then: Outcome): Outcome => (world.secret === 'live' ? then : { status: 404 });
const ifDeleted = (world: World, then: Outcome): Outcome =>
  world.secret === 'deleted' ? then : { status: 404 };
const ifKeyLive = (world: World, then: Outcome): Outcome => (world.key === 'live' ? then : { status: 404 });
const ifKeyDeleted = (world: World, then: Outcome): Outcome =>
  world.key === 'deleted' ? then : { status: 404 };

/** One RSA private key as a JWK, made at test time, for ImportKey. */
const importedJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const DIGEST = createHash('sha256').update('the authorization matrix').digest().toString('base64url');
/** A well-formed value no operation of this run produced: what a body falls back to. */
const block = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * Keyed by operationId. Routes run in the table's order, so the secrets rows
 * are a story: set makes the secret live, delete soft-deletes it, and then
 * the reads of the live secret (get, versions, backup, update) find nothing.
 * Purge comes before recover in the table, so purge removes the deleted
 * secret for good and recover finds nothing to recover: 404 by Key Vault's
 * semantics, whatever order might have been nicer to test.
 */
const OPERATIONS: Record<string, Operation> = {
  GetSecrets: {
    paths: ['GET /secrets'],
    permission: 'secrets/list',
    action: READ_METADATA,
    list: 'secrets',
    outcome: () => ({ status: 200 }),
  },
  SetSecret: {
    paths: ['PUT /secrets/{name}'],
    permission: 'secrets/set',
    action: SET_SECRET,
    body: ({ secretValue }) => JSON.stringify({ value: secretValue }),
    // A deleted secret's name cannot be reused until it is purged or recovered (409);
    // the story never sets over a deleted secret, so that is not modelled.
    outcome: () => ({ status: 200, secret: 'live' }),
  },
  DeleteSecret: {
    paths: ['DELETE /secrets/{name}'],
    permission: 'secrets/delete',
    action: DELETE_SECRET,
    outcome: (w) => ifLive(w, { status: 200, secret: 'deleted' }),
  },
  GetSecret: {
    paths: ['GET /secrets/{name}', 'GET /secrets/{name}/{version}'],
    permission: 'secrets/get',
    action: GET_SECRET,
    // With a version: one that was never made, so 404 whatever the secret's state.
    outcome: (w, route) => (route.path.endsWith('{version}') ? { status: 404 } : ifLive(w, { status: 200 })),
  },
  UpdateSecret: {
    paths: ['PATCH /secrets/{name}/{version}'],
    // Access policies have no 'update' for secrets: updating attributes takes 'set'.
    permission: 'secrets/set',
    action: UPDATE_SECRET,
    body: () => JSON.stringify({ contentType: 'text/plain', attributes: { enabled: true } }),
    // The version is one that was never made: 404 even for a live secret.
    outcome: () => ({ status: 404 }),
  },
  GetSecretVersions: {
    paths: ['GET /secrets/{name}/versions'],
    permission: 'secrets/list',
    action: READ_METADATA,
    outcome: (w) => ifLive(w, { status: 200 }),
  },
  BackupSecret: {
    paths: ['POST /secrets/{name}/backup'],
    permission: 'secrets/backup',
    action: BACKUP_SECRET,
    outcome: (w) => ifLive(w, { status: 200 }),
  },
  RestoreSecret: {
    paths: ['POST /secrets/restore'],
    permission: 'secrets/restore',
    action: RESTORE_SECRET,
    // Well-formed base64url, but not a backup this vault made: 400.
    body: () => JSON.stringify({ value: Buffer.from('not a backup blob').toString('base64url') }),
    outcome: () => ({ status: 400 }),
  },
  GetDeletedSecrets: {
    paths: ['GET /deletedsecrets'],
    permission: 'secrets/list',
    action: READ_METADATA,
    list: 'secrets',
    outcome: () => ({ status: 200 }),
  },
  GetDeletedSecret: {
    paths: ['GET /deletedsecrets/{name}'],
    // Azure: the Get Deleted Secret operation requires secrets/get; by RBAC it reads metadata only.
    permission: 'secrets/get',
    action: READ_METADATA,
    outcome: (w) => ifDeleted(w, { status: 200 }),
  },
  PurgeDeletedSecret: {
    paths: ['DELETE /deletedsecrets/{name}'],
    permission: 'secrets/purge',
    action: PURGE_SECRET,
    outcome: (w) => ifDeleted(w, { status: 204, secret: 'absent' }),
  },
  RecoverDeletedSecret: {
    paths: ['POST /deletedsecrets/{name}/recover'],
    permission: 'secrets/recover',
    action: RECOVER_SECRET,
    outcome: (w) => ifDeleted(w, { status: 200, secret: 'live' }),
  },

  /*
   * Keys. Every principal's key exists when the matrix starts (the dev client made it, so that
   * principals that cannot create keys still have one to use); {version} is its latest version.
   * Create and import add versions, the operations use the latest, rotate adds one more, backup
   * keeps a blob, delete soft-deletes it; purge removes it for good, so restore (the table puts
   * it after purge for this story) brings it back from the blob, and recover then finds no
   * deleted key: 404.
   */
  GetKeys: {
    paths: ['GET /keys'],
    permission: 'keys/list',
    action: READ_KEY,
    list: 'keys',
    outcome: () => ({ status: 200 }),
  },
  CreateKey: {
    paths: ['POST /keys/{name}/create'],
    permission: 'keys/create',
    action: CREATE_KEY,
    body: () => JSON.stringify({ kty: 'RSA', key_size: 2048 }),
    // A new version of a live key; a deleted key's name cannot be reused until purged or recovered.
    outcome: (w) => (w.key === 'deleted' ? { status: 409 } : { status: 200, key: 'live' }),
  },
  ImportKey: {
    paths: ['PUT /keys/{name}'],
    permission: 'keys/import',
    action: IMPORT_KEY,
    body: () => JSON.stringify({ key: importedJwk }),
    outcome: (w) => (w.key === 'deleted' ? { status: 409 } : { status: 200, key: 'live' }),
  },
  GetKey: {
    paths: ['GET /keys/{name}', 'GET /keys/{name}/{version}'],
    permission: 'keys/get',
    action: READ_KEY,
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  UpdateKey: {
    paths: ['PATCH /keys/{name}/{version}'],
    permission: 'keys/update',
    action: UPDATE_KEY,
    body: () => JSON.stringify({ attributes: { enabled: true }, tags: { matrix: 'yes' } }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  GetKeyVersions: {
    paths: ['GET /keys/{name}/versions'],
    permission: 'keys/list',
    action: READ_KEY,
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  encrypt: {
    paths: ['POST /keys/{name}/{version}/encrypt'],
    permission: 'keys/encrypt',
    action: ENCRYPT,
    body: () => JSON.stringify({ alg: 'RSA-OAEP-256', value: Buffer.from('matrix').toString('base64url') }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  decrypt: {
    paths: ['POST /keys/{name}/{version}/decrypt'],
    permission: 'keys/decrypt',
    action: DECRYPT,
    // What encrypt answered (every role that decrypts also encrypts).
    body: ({ answers }) =>
      JSON.stringify({ alg: 'RSA-OAEP-256', value: answers.encrypt?.value ?? block(256) }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  sign: {
    paths: ['POST /keys/{name}/{version}/sign'],
    permission: 'keys/sign',
    action: SIGN,
    body: () => JSON.stringify({ alg: 'RS256', value: DIGEST }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  verify: {
    paths: ['POST /keys/{name}/{version}/verify'],
    permission: 'keys/verify',
    action: VERIFY,
    // 200 whether the signature holds or not ({value: false} is an answer, not an error).
    body: ({ answers }) =>
      JSON.stringify({ alg: 'RS256', digest: DIGEST, value: answers.sign?.value ?? block(256) }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  wrapKey: {
    paths: ['POST /keys/{name}/{version}/wrapkey'],
    permission: 'keys/wrapKey',
    action: WRAP,
    body: () => JSON.stringify({ alg: 'RSA-OAEP-256', value: block(32) }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  unwrapKey: {
    paths: ['POST /keys/{name}/{version}/unwrapkey'],
    permission: 'keys/unwrapKey',
    action: UNWRAP,
    body: ({ answers }) =>
      JSON.stringify({ alg: 'RSA-OAEP-256', value: answers.wrapKey?.value ?? block(256) }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  GetKeyRotationPolicy: {
    paths: ['GET /keys/{name}/rotationpolicy'],
    // The access-policy permission is 'Get Rotation Policy' (getrotationpolicy); the REST
    // reference's description says keys/get, but the permission Azure grants and checks is its own.
    permission: 'keys/getrotationpolicy',
    action: READ_ROTATION_POLICY,
    // A live key without a policy of its own answers the default policy.
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  UpdateKeyRotationPolicy: {
    paths: ['PUT /keys/{name}/rotationpolicy'],
    permission: 'keys/setrotationpolicy',
    action: WRITE_ROTATION_POLICY,
    body: () =>
      JSON.stringify({
        lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }],
        attributes: { expiryTime: 'P1Y' },
      }),
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  RotateKey: {
    paths: ['POST /keys/{name}/rotate'],
    permission: 'keys/rotate',
    action: ROTATE_KEY,
    outcome: (w) => ifKeyLive(w, { status: 200 }),
  },
  BackupKey: {
    paths: ['POST /keys/{name}/backup'],
    permission: 'keys/backup',
    action: BACKUP_KEY,
    outcome: (w) => ifKeyLive(w, { status: 200, keyBackup: true }),
  },
  DeleteKey: {
    paths: ['DELETE /keys/{name}'],
    permission: 'keys/delete',
    action: DELETE_KEY,
    outcome: (w) => ifKeyLive(w, { status: 200, key: 'deleted' }),
  },
  GetDeletedKeys: {
    paths: ['GET /deletedkeys'],
    permission: 'keys/list',
    action: READ_KEY,
    list: 'keys',
    outcome: () => ({ status: 200 }),
  },
  GetDeletedKey: {
    paths: ['GET /deletedkeys/{name}'],
    permission: 'keys/get',
    action: READ_KEY,
    outcome: (w) => ifKeyDeleted(w, { status: 200 }),
  },
  PurgeDeletedKey: {
    paths: ['DELETE /deletedkeys/{name}'],
    permission: 'keys/purge',
    action: PURGE_KEY,
    outcome: (w) => ifKeyDeleted(w, { status: 204, key: 'absent' }),
  },
  RestoreKey: {
    paths: ['POST /keys/restore'],
    permission: 'keys/restore',
    action: RESTORE_KEY,
    // The blob BackupKey answered; without one, well-formed base64url that is no backup (400).
    body: ({ answers }) =>
      JSON.stringify({
        value: answers.BackupKey?.value ?? Buffer.from('not a backup blob').toString('base64url'),
      }),
    // A backup restores under its own name only while that name is free (live or deleted: 409).
    outcome: (w) =>
      !w.keyBackup ? { status: 400 } : w.key === 'absent' ? { status: 200, key: 'live' } : { status: 409 },
  },
  RecoverDeletedKey: {
    paths: ['POST /deletedkeys/{name}/recover'],
    permission: 'keys/recover',
    action: RECOVER_KEY,
    outcome: (w) => ifKeyDeleted(w, { status: 200, key: 'live' }),
  },
  GetRandomBytes: {
    paths: ['POST /rng'],
    // Azure serves it on Managed HSM only (its own rng action); Arca's table puts it under
    // keys/get (access policies) and keys/read (roles), at vault scope: no object names it.
    permission: 'keys/get',
    action: READ_KEY,
    body: () => JSON.stringify({ count: 16 }),
    outcome: () => ({ status: 200 }),
  },

  RoleAssignments_Create: {
    paths: rbacPaths('PUT', 'roleAssignments/{assignment}'),
    permission: 'rbac/write',
    action: `${RA}/write`,
    // A fresh name, granting Reader to a principal that does not exist: a new grant every time.
    body: () =>
      JSON.stringify({ properties: { roleDefinitionId: ROLE_IDS.reader, principalId: randomUUID() } }),
    outcome: () => ({ status: 201 }),
  },
  RoleAssignments_Get: {
    paths: rbacPaths('GET', 'roleAssignments/{assignment}'),
    permission: 'rbac/read',
    action: `${RA}/read`,
    outcome: () => ({ status: 404 }),
  },
  RoleAssignments_Delete: {
    paths: rbacPaths('DELETE', 'roleAssignments/{assignment}'),
    permission: 'rbac/delete',
    action: `${RA}/delete`,
    outcome: () => ({ status: 404 }),
  },
  RoleAssignments_ListForScope: {
    paths: rbacPaths('GET', 'roleAssignments'),
    permission: 'rbac/read',
    action: `${RA}/read`,
    outcome: () => ({ status: 200 }),
  },
  RoleDefinitions_List: {
    paths: rbacPaths('GET', 'roleDefinitions', ['']),
    permission: 'rbac/read',
    action: `${RD}/read`,
    outcome: () => ({ status: 200 }),
  },

  Vaults_CreateOrUpdate: {
    paths: ['PUT /vaults/{vault}'],
    permission: 'vaults/write',
    body: () => JSON.stringify({ properties: { sku: { name: 'standard' } } }),
    outcome: (w) => ({ status: w.vault === 'absent' ? 201 : 200, vault: 'live' }),
  },
  Vaults_Update: {
    paths: ['PATCH /vaults/{vault}'],
    permission: 'vaults/write',
    body: () => JSON.stringify({ tags: { matrix: 'yes' } }),
    outcome: (w) => (w.vault === 'live' ? { status: 200 } : { status: 404 }),
  },
  Vaults_Get: {
    paths: ['GET /vaults/{vault}'],
    permission: 'vaults/read',
    outcome: (w) => (w.vault === 'live' ? { status: 200 } : { status: 404 }),
  },
  Vaults_List: {
    paths: ['GET /vaults'],
    permission: 'vaults/read',
    outcome: () => ({ status: 200 }),
  },
  Vaults_Delete: {
    paths: ['DELETE /vaults/{vault}'],
    permission: 'vaults/delete',
    outcome: (w) => (w.vault === 'live' ? { status: 200, vault: 'deleted' } : { status: 404 }),
  },
  Vaults_UpdateAccessPolicy: {
    paths: ['PUT /vaults/{vault}/accessPolicies/{operationKind}'],
    permission: 'vaults/write',
    body: ({ tenantId, principalObjectId }) =>
      JSON.stringify({
        properties: {
          accessPolicies: [{ tenantId, objectId: principalObjectId, permissions: { secrets: ['list'] } }],
        },
      }),
    // The table puts it after Delete: a deleted vault's policies cannot be changed.
    outcome: (w) => (w.vault === 'live' ? { status: 200 } : { status: 404 }),
  },
  Vaults_ListDeleted: {
    paths: ['GET /deletedVaults'],
    permission: 'vaults/read',
    outcome: () => ({ status: 200 }),
  },
  Vaults_GetDeleted: {
    paths: ['GET /deletedVaults/{vault}'],
    permission: 'vaults/read',
    outcome: (w) => (w.vault === 'deleted' ? { status: 200 } : { status: 404 }),
  },
  Vaults_Recover: {
    paths: ['POST /deletedVaults/{vault}/recover'],
    permission: 'vaults/write',
    outcome: (w) => (w.vault === 'deleted' ? { status: 200, vault: 'live' } : { status: 404 }),
  },
  AuditEvents_List: {
    paths: ['GET /vaults/{vault}/auditEvents'],
    permission: 'audit/read',
    // Deployment administrators and audit readers (and the vault's own administrators) read its records.
    outcome: () => ({ status: 200 }),
  },
  HsmHealth_Get: {
    paths: ['GET /health/hsm'],
    permission: 'vaults/read',
    // Management plane: a deployment Reader (or above) reads the HSM's health.
    outcome: () => ({ status: 200 }),
  },
  Vaults_PurgeDeleted: {
    paths: ['POST /deletedVaults/{vault}/purge'],
    permission: 'vaults/purge',
    // The table puts it after Recover: the vault is live again, so there is no deleted vault to purge.
    outcome: (w) => (w.vault === 'deleted' ? { status: 200, vault: 'absent' } : { status: 404 }),
  },
};

// ---------------------------------------------------------------------------------------------------------
// The principals and what they hold.
// ---------------------------------------------------------------------------------------------------------

interface PrincipalSpec {
  readonly label: string;
  /** The vault its data-plane requests go to: dev (RBAC) or apvault (access policies). */
  readonly vault: 'dev' | 'apvault';
  /**
   * The name of the secret and of the key it works on. The secret does not exist when the
   * matrix starts; the key does (made by the dev client).
   */
  readonly object: string;
  /** RBAC actions held at vault scope in dev. */
  readonly vaultWide?: readonly string[];
  /** RBAC actions held on its own secret or key only (a role at scope /secrets/{object}, /keys/{object}). */
  readonly onObject?: { readonly secrets?: readonly string[]; readonly keys?: readonly string[] };
  /** Access-policy permissions in apvault ('secrets/get'). */
  readonly policy?: readonly string[];
  /** Deployment actions (ARCA_ADMINISTRATORS …). */
  readonly deployment?: readonly string[];
}

const run = randomBytes(3).toString('hex');
const SCOPED_OBJECT = 'scoped-obj';

const PRINCIPALS: Record<string, PrincipalSpec> = {
  nothing: { label: 'nothing', vault: 'dev', object: 'nothing-obj' },
  reader: { label: 'Reader', vault: 'dev', object: 'reader-obj', vaultWide: ROLES.reader },
  secretsUser: { label: 'Secrets User', vault: 'dev', object: 'user-obj', vaultWide: ROLES.secretsUser },
  secretsOfficer: {
    label: 'Secrets Officer',
    vault: 'dev',
    object: 'officer-obj',
    vaultWide: ROLES.secretsOfficer,
  },
  cryptoOfficer: {
    label: 'Crypto Officer',
    vault: 'dev',
    object: 'cofficer-obj',
    vaultWide: ROLES.cryptoOfficer,
  },
  cryptoUser: { label: 'Crypto User', vault: 'dev', object: 'crypto-obj', vaultWide: ROLES.cryptoUser },
  administrator: {
    label: 'Administrator',
    vault: 'dev',
    object: 'admin-obj',
    vaultWide: ROLES.administrator,
  },
  scoped: {
    label: 'object-scoped',
    vault: 'dev',
    object: SCOPED_OBJECT,
    onObject: { secrets: ROLES.secretsUser, keys: ROLES.cryptoUser },
  },
  accessPolicy: { label: 'access policy (get)', vault: 'apvault', object: 'ap-obj', policy: ['secrets/get'] },
  keyPolicy: {
    label: 'access policy (keys get)',
    vault: 'apvault',
    object: 'kp-obj',
    policy: ['keys/get'],
  },
  dev: {
    label: 'dev client',
    vault: 'dev',
    object: 'dev-obj',
    vaultWide: ROLES.administrator,
    deployment: ['vaults/read', 'vaults/write', 'vaults/delete', 'vaults/purge', 'audit/read'],
  },
};

const routeKey = (route: Route) => `${route.method} ${route.path}`;
/** The operations whose answer names the key's (new) latest version. */
const KEY_VERSION_MAKERS = ['CreateKey', 'ImportKey', 'RotateKey', 'RestoreKey', 'RecoverDeletedKey'];

/** The object a data-plane route works on, for a principal's object-scoped grant: its collection, if any. */
const objectCollection = (route: Route): 'secrets' | 'keys' | undefined => {
  const m = /^\/(secrets|deletedsecrets|keys|deletedkeys)\/\{name\}(\/|$)/.exec(route.path);
  return m ? (m[1]?.replace('deleted', '') as 'secrets' | 'keys') : undefined;
};

function allowed(p: PrincipalSpec, route: Route, op: Operation): boolean {
  if (route.plane === 'management') return p.deployment?.includes(op.permission) ?? false;
  const action = op.action ?? '';
  const byRoles = p.vault === 'dev' || op.permission.startsWith('rbac/');
  if (!byRoles) return p.policy?.includes(op.permission) ?? false;
  // apvault has no role assignment for anyone in this set.
  if (p.vault !== 'dev') return false;
  if (p.vaultWide?.includes(action)) return true;
  // A role on its own object: the routes naming that object, and the lists of its collection.
  const own = objectCollection(route);
  if (own && p.onObject?.[own]?.includes(action)) return true;
  return op.list !== undefined && (p.onObject?.[op.list]?.includes(action) ?? false);
}

// ---------------------------------------------------------------------------------------------------------

describe('the authorization matrix: every route × every kind of principal', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let port: number;
  const tokens = new Map<string, string>();
  const objectIds = new Map<string, string>();
  const secretValues: string[] = [];
  const version = randomBytes(16).toString('hex');
  /** The latest version of each principal's key, as the answers that made one named it. */
  const keyVersions = new Map<string, string>();
  const versionOfKey = (text: string) =>
    String(JSON.parse(text).key?.kid ?? '')
      .split('/')
      .pop() ?? '';

  const send = (
    path: string,
    token: string,
    options: { method?: string; body?: string; host?: string } = {},
  ) =>
    rawRequest(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(options.host && { host: options.host }),
      },
      ...(options.body !== undefined && { body: options.body }),
    });

  before(async () => {
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    port = fixture.vault.port;
    const dev = await fixture.token();
    tokens.set('dev', dev);
    const devClient = (await fixture.vault.issuer.listClients()).find(
      (c) => c.clientId === fixture.info.clientId,
    );
    objectIds.set('dev', devClient?.objectId ?? '');

    for (const key of Object.keys(PRINCIPALS).filter((k) => k !== 'dev')) {
      const client = await fixture.vault.issuer.createClient(`matrix-${key}`);
      objectIds.set(key, client.objectId);
      tokens.set(key, await fixture.vault.issuer.mintToken({ clientId: client.clientId }));
    }

    const assign = async (scope: string, role: string, principal: string) => {
      const res = await send(`${scope}${AUTHZ}/roleAssignments/${randomUUID()}?api-version=7.6`, dev, {
        method: 'PUT',
        body: JSON.stringify({
          properties: { roleDefinitionId: role, principalId: objectIds.get(principal) },
        }),
      });
      assert.equal(res.status, 201, `assigning ${role} to ${principal} at '${scope}': ${res.text}`);
    };
    await assign('', ROLE_IDS.reader, 'reader');
    await assign('', ROLE_IDS.secretsUser, 'secretsUser');
    await assign('', ROLE_IDS.secretsOfficer, 'secretsOfficer');
    await assign('', ROLE_IDS.cryptoOfficer, 'cryptoOfficer');
    await assign('', ROLE_IDS.cryptoUser, 'cryptoUser');
    await assign('', ROLE_IDS.administrator, 'administrator');
    await assign(`/secrets/${SCOPED_OBJECT}`, ROLE_IDS.secretsUser, 'scoped');
    await assign(`/keys/${SCOPED_OBJECT}`, ROLE_IDS.cryptoUser, 'scoped');

    const ap = await send('/vaults/apvault?api-version=2024-11-01', dev, {
      method: 'PUT',
      body: JSON.stringify({
        properties: {
          enableRbacAuthorization: false,
          accessPolicies: [
            {
              tenantId: fixture.info.tenantId,
              objectId: objectIds.get('accessPolicy'),
              permissions: { secrets: ['get'] },
            },
            {
              tenantId: fixture.info.tenantId,
              objectId: objectIds.get('keyPolicy'),
              permissions: { keys: ['get'] },
            },
            // The dev client only makes the apvault principals' keys (below); it runs in dev.
            {
              tenantId: fixture.info.tenantId,
              objectId: objectIds.get('dev'),
              permissions: { keys: ['create'] },
            },
          ],
        },
      }),
    });
    assert.equal(ap.status, 201, ap.text);

    // Decoys the object-scoped principal must never see in a list: one live, one deleted.
    for (const name of ['decoy', 'decoy-deleted']) {
      const value = `decoy-value-${randomBytes(6).toString('hex')}`;
      secretValues.push(value);
      const set = await send(`/secrets/${name}?api-version=7.6`, dev, {
        method: 'PUT',
        body: JSON.stringify({ value }),
      });
      assert.equal(set.status, 200, set.text);
    }
    const deleted = await send('/secrets/decoy-deleted?api-version=7.6', dev, { method: 'DELETE' });
    assert.equal(deleted.status, 200, deleted.text);

    // Every principal's key, in the vault it works in, and two decoy keys (one deleted).
    const createKey = async (name: string, host?: string) => {
      const res = await send(`/keys/${name}/create?api-version=7.6`, dev, {
        method: 'POST',
        body: JSON.stringify({ kty: 'RSA', key_size: 2048 }),
        ...(host && { host }),
      });
      assert.equal(res.status, 200, `creating key ${name}: ${res.text}`);
      return versionOfKey(res.text);
    };
    for (const [key, p] of Object.entries(PRINCIPALS)) {
      const host = p.vault === 'apvault' ? `apvault.localhost:${port}` : undefined;
      keyVersions.set(key, await createKey(p.object, host));
    }
    for (const name of ['decoy', 'decoy-deleted']) await createKey(name);
    const deletedKey = await send('/keys/decoy-deleted?api-version=7.6', dev, { method: 'DELETE' });
    assert.equal(deletedKey.status, 200, deletedKey.text);
  });
  after(() => fixture?.close());

  it('has a hand-written expectation for every route, and the route table agrees with it', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const op = OPERATIONS[route.operationId];
      if (!op) {
        problems.push(`${route.operationId} (${routeKey(route)}) has no expectation in this matrix`);
        continue;
      }
      if (!op.paths.includes(routeKey(route)))
        problems.push(`${route.operationId}: ${routeKey(route)} is not a path this matrix knows for it`);
      if (route.permission !== op.permission)
        problems.push(`${routeKey(route)}: permission '${route.permission}', Azure's is '${op.permission}'`);
      if (route.plane === 'data' && route.dataAction !== op.action)
        problems.push(`${routeKey(route)}: data action '${route.dataAction}', Azure's is '${op.action}'`);
    }
    const served = new Set(routes.map(routeKey));
    for (const [id, op] of Object.entries(OPERATIONS)) {
      for (const path of op.paths) if (!served.has(path)) problems.push(`${id}: ${path} is not in the table`);
    }
    assert.deepEqual(problems, []);
  });

  for (const [key, p] of Object.entries(PRINCIPALS)) {
    it(`${p.label}: every route answers as Azure would`, async () => {
      const token = tokens.get(key) as string;
      const world: World = { secret: 'absent', key: 'live', keyBackup: false, vault: 'absent' };
      const answers: Record<string, unknown> = {};
      const secretValue = `matrix-value-${key}-${randomBytes(8).toString('hex')}`;
      secretValues.push(secretValue);
      const managedVault = `mx${key.toLowerCase().slice(0, 8)}-${run}`;
      const context: RequestContext = {
        tenantId: fixture.info.tenantId,
        secretValue,
        principalObjectId: objectIds.get(key) as string,
        answers,
      };
      const mismatches: string[] = [];

      for (const route of routes) {
        const where = `${p.label} × ${routeKey(route)}`;
        const op = OPERATIONS[route.operationId];
        if (!op) {
          mismatches.push(`${where}: no expectation for operation ${route.operationId}`);
          continue;
        }
        let path = route.path;
        const values: Record<string, string> = {
          name: p.object,
          // A key's routes name its latest version; a secret's, one that was never made.
          version: route.path.startsWith('/keys/') ? (keyVersions.get(key) as string) : version,
          assignment: randomUUID(),
          vault: managedVault,
          operationKind: 'add',
        };
        for (const [param] of route.path.matchAll(/\{[^}]+\}/g)) {
          const value = values[param.slice(1, -1)];
          if (value === undefined) mismatches.push(`${where}: no value for path parameter ${param}`);
          path = path.replace(param, value ?? 'x');
        }
        const apiVersion = route.plane === 'management' ? '2024-11-01' : '7.6';
        const host =
          route.plane === 'data' && p.vault === 'apvault' ? `apvault.localhost:${port}` : undefined;
        const res = await send(`${path}?api-version=${apiVersion}`, token, {
          method: route.method,
          ...(op.body && { body: op.body(context) }),
          ...(host && { host }),
        });

        if (!allowed(p, route, op)) {
          if (res.status !== 403) {
            mismatches.push(`${where}: expected 403, got ${summary(res.status, res.text)}`);
            continue;
          }
          const problems = deniedBodyProblems(res.text, route.operationId, secretValues);
          if (problems) mismatches.push(`${where}: 403 body ${problems}: ${res.text.slice(0, 300)}`);
          continue;
        }

        const expected = op.outcome(world, route);
        if (res.status !== expected.status) {
          mismatches.push(`${where}: expected ${expected.status}, got ${summary(res.status, res.text)}`);
        }
        // Follow the model, not the server: one wrong answer shows once, not in every later cell.
        if (expected.secret) world.secret = expected.secret;
        if (expected.key) world.key = expected.key;
        if (expected.keyBackup) world.keyBackup = expected.keyBackup;
        if (expected.vault) world.vault = expected.vault;
        // What later requests are made of (a ciphertext to decrypt, a backup to restore, the
        // key's latest version) comes from the answers, as a client's would.
        if (res.status === 200 && route.plane === 'data') {
          try {
            answers[route.operationId] = JSON.parse(res.text);
          } catch {
            mismatches.push(`${where}: a 200 whose body is not JSON: ${res.text.slice(0, 120)}`);
            continue;
          }
          if (KEY_VERSION_MAKERS.includes(route.operationId)) keyVersions.set(key, versionOfKey(res.text));
        }

        if (key === 'scoped' && op.list && res.status === 200) {
          const items: unknown = JSON.parse(res.text).value;
          const ids = Array.isArray(items)
            ? items.map((item: { id?: string; kid?: string }) => String(item.id ?? item.kid))
            : [];
          const foreign = ids.filter((id) => !id.endsWith(`/${SCOPED_OBJECT}`));
          if (!Array.isArray(items)) mismatches.push(`${where}: the list has no 'value' array`);
          if (foreign.length > 0) mismatches.push(`${where}: lists objects it has no role on: ${foreign}`);
        }
      }
      assert.equal(mismatches.length, 0, `\n${mismatches.join('\n')}`);
    });
  }
});

/** A status with the error's code, inner code and message, for a readable mismatch line. */
function summary(status: number, text: string): string {
  try {
    const { error } = JSON.parse(text);
    if (error)
      return `${status} ${error.code}/${error.innererror?.code ?? '-'}: ${error.message}`.slice(0, 400);
  } catch {
    // not JSON: show its start
  }
  return `${status} ${text.slice(0, 120)}`;
}

/** A refusal is a KeyVaultError 'Forbidden' naming the operation and never quoting a value. */
function deniedBodyProblems(text: string, operationId: string, secretValues: readonly string[]): string {
  // biome-ignore lint/suspicious/noExplicitAny: a response body checked field by field
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const problems: string[] = [];
  if (body?.error?.code !== 'Forbidden') problems.push(`has code ${body?.error?.code}`);
  const inner = body?.error?.innererror?.code;
  if (!['ForbiddenByRbac', 'ForbiddenByPolicy', 'AccessDenied'].includes(inner))
    problems.push(`has innererror.code ${inner}`);
  if (typeof body?.error?.message !== 'string' || !body.error.message.includes(operationId))
    problems.push(`does not name ${operationId}`);
  if (secretValues.some((v) => text.includes(v))) problems.push('quotes a secret value');
  return problems.join(', ');
}
