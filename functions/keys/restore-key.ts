import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { restoreKeySchema } from '#lib/keys/key-schemas.ts';
import { KEY_BACKUP } from '#lib/keys/keys-deps.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';
import { makeRestoreSecret } from '#lib/secrets/backup-secret.ts';

const restoreKey = keyUseCase((deps) => makeRestoreSecret(deps, KEY_BACKUP));

export const handler = vaultOperation(keyRoutes, 'RestoreKey', async (request) => {
  const { value } = parseBody(restoreKeySchema, request.body);
  return ok(
    keyBundle(request.vault, await restoreKey()(request.vault.name, value, request.audit.forChange())),
  );
});
