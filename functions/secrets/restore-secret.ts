import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeRestoreSecret } from '#lib/secrets/backup-secret.ts';
import { secretBundle } from '#lib/secrets/secret-bundles.ts';
import { restoreSecretSchema } from '#lib/secrets/secret-schemas.ts';

const restoreSecret = secretUseCase(makeRestoreSecret);

export const handler = vaultOperation(secretRoutes, 'RestoreSecret', async (request) => {
  const { value } = parseBody(restoreSecretSchema, request.body);
  return ok(
    secretBundle(request.vault, await restoreSecret()(request.vault.name, value, request.audit.forChange())),
  );
});
