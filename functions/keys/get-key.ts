import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeGetKey } from '#lib/keys/get-key.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const getKey = keyUseCase(makeGetKey);

export const handler = vaultOperation(keyRoutes, 'GetKey', async (request) => {
  const key = await getKey()(request.vault.name, request.params.name, request.params.version);
  return ok(keyBundle(request.vault, key));
});
