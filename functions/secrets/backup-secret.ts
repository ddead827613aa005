import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeBackupSecret } from '#lib/secrets/backup-secret.ts';

const backupSecret = secretUseCase(makeBackupSecret);

export const handler = vaultOperation(secretRoutes, 'BackupSecret', async (request) => {
  return ok({ value: await backupSecret()(request.vault.name, request.params.name) });
});
