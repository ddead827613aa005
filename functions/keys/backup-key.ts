import { ok } from '#lib/http/responses.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { KEY_BACKUP } from '#lib/keys/keys-deps.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';
import { makeBackupSecret } from '#lib/secrets/backup-secret.ts';

const backupKey = keyUseCase((deps) => makeBackupSecret(deps, KEY_BACKUP));

export const handler = vaultOperation('BackupKey', async (request) => {
  return ok({ value: await backupKey()(request.vault.name, request.params.name) });
});
