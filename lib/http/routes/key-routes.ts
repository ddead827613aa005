import { collectionRoutes, type Route } from '../route.ts';

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

const keys = collectionRoutes('keys', KEY_ACTIONS);

/** The keys routes (one part of the route table: lib/http/routes.ts). */
// biome-ignore format: one route a line reads as a table
export const keyRoutes: readonly Route[] = [
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
];
