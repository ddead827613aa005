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
  /** The Key Vault permission the caller needs (access-policy name). */
  readonly permission: string;
  /** operationName in the audit record (Azure's AuditEvent names). */
  readonly auditOperation: string;
  readonly summary: string;
}

const secrets = (
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
  handler: `functions/secrets/${file}.ts`,
  permission: `secrets/${permission}`,
  auditOperation,
  summary,
});

export const routes: readonly Route[] = [
  secrets('GetSecrets', 'GET', '/secrets', 'list-secrets', 'list', 'SecretList', 'List secrets (no values).'),
  secrets(
    'SetSecret',
    'PUT',
    '/secrets/{name}',
    'set-secret',
    'set',
    'SecretSet',
    'Create a secret or a new version of it.',
  ),
  secrets(
    'DeleteSecret',
    'DELETE',
    '/secrets/{name}',
    'delete-secret',
    'delete',
    'SecretDelete',
    'Soft-delete a secret with all its versions.',
  ),
  secrets(
    'GetSecret',
    'GET',
    '/secrets/{name}',
    'get-secret',
    'get',
    'SecretGet',
    'Get the latest version of a secret.',
  ),
  secrets(
    'GetSecret',
    'GET',
    '/secrets/{name}/{version}',
    'get-secret',
    'get',
    'SecretGet',
    'Get a version of a secret (an empty version means the latest).',
  ),
  secrets(
    'UpdateSecret',
    'PATCH',
    '/secrets/{name}/{version}',
    'update-secret',
    'set',
    'SecretUpdate',
    'Update the attributes, tags or content type of a version.',
  ),
  secrets(
    'GetSecretVersions',
    'GET',
    '/secrets/{name}/versions',
    'list-secret-versions',
    'list',
    'SecretListVersions',
    'List the versions of a secret (no values).',
  ),
  secrets(
    'BackupSecret',
    'POST',
    '/secrets/{name}/backup',
    'backup-secret',
    'backup',
    'SecretBackup',
    'Export a sealed backup of every version.',
  ),
  secrets(
    'RestoreSecret',
    'POST',
    '/secrets/restore',
    'restore-secret',
    'restore',
    'SecretRestore',
    'Restore a secret from a backup.',
  ),
  secrets(
    'GetDeletedSecrets',
    'GET',
    '/deletedsecrets',
    'list-deleted-secrets',
    'list',
    'SecretListDeleted',
    'List soft-deleted secrets.',
  ),
  secrets(
    'GetDeletedSecret',
    'GET',
    '/deletedsecrets/{name}',
    'get-deleted-secret',
    'get',
    'SecretGetDeleted',
    'Get a soft-deleted secret (no value).',
  ),
  secrets(
    'PurgeDeletedSecret',
    'DELETE',
    '/deletedsecrets/{name}',
    'purge-deleted-secret',
    'purge',
    'SecretPurge',
    'Purge a soft-deleted secret for good.',
  ),
  secrets(
    'RecoverDeletedSecret',
    'POST',
    '/deletedsecrets/{name}/recover',
    'recover-deleted-secret',
    'recover',
    'SecretRecover',
    'Recover a soft-deleted secret.',
  ),
];

/** One Lambda function per handler file (get-secret serves two routes). */
export function handlerFiles(): string[] {
  return [...new Set(routes.map((r) => r.handler))];
}
