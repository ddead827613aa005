import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeBackupKey } from '#lib/keys/backup-key.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const backupKey = keyUseCase(makeBackupKey);

export const handler = vaultOperation(keyRoutes, 'BackupKey', async (request) => {
  return ok({ value: await backupKey()(request.vault.name, request.params.name) });
});
