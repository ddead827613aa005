import { collectionRoutes, type Route } from '../route.ts';

/** Secrets routes: the access-policy permission and the RBAC data action, as Azure names them. */
const SECRET_ACTIONS: Record<string, string> = {
  get: 'secrets/getSecret/action',
  list: 'secrets/readMetadata/action',
  set: 'secrets/setSecret/action',
  update: 'secrets/update/action',
  delete: 'secrets/delete',
  recover: 'secrets/recover/action',
  backup: 'secrets/backup/action',
  restore: 'secrets/restore/action',
  purge: 'secrets/purge/action',
};

const secrets = collectionRoutes('secrets', SECRET_ACTIONS);

/** The secrets routes (one part of the route table: lib/http/routes.ts). */
// biome-ignore format: one route a line reads as a table
export const secretRoutes: readonly Route[] = [
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
];
