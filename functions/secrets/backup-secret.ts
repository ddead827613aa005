import { ok } from '#lib/http/responses.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeBackupSecret } from '#lib/secrets/backup-secret.ts';

const backupSecret = secretUseCase(makeBackupSecret);

export const handler = vaultOperation('BackupSecret', async (request) => {
  return ok({ value: await backupSecret()(request.vault.name, request.params.name) });
});
