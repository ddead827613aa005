import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeRestoreKey } from '#lib/keys/backup-key.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { restoreKeySchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const restoreKey = keyUseCase(makeRestoreKey);

export const handler = vaultOperation(keyRoutes, 'RestoreKey', async (request) => {
  const { value } = parseBody(restoreKeySchema, request.body);
  return ok(
    keyBundle(request.vault, await restoreKey()(request.vault.name, value, request.audit.forChange())),
  );
});
