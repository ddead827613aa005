import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { updateKeySchema } from '#lib/keys/key-schemas.ts';
import { makeUpdateKey } from '#lib/keys/update-key.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const updateKey = keyUseCase(makeUpdateKey);

export const handler = vaultOperation(keyRoutes, 'UpdateKey', async (request) => {
  const input = parseBody(updateKeySchema, request.body);
  const key = await updateKey()(
    request.vault.name,
    request.params.name,
    request.params.version,
    input,
    request.audit.forChange(),
  );
  return ok(keyBundle(request.vault, key));
});
