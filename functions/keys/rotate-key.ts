import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { makeRotateKey } from '#lib/keys/rotate-key.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const rotateKey = keyUseCase(makeRotateKey);

export const handler = vaultOperation(keyRoutes, 'RotateKey', async (request) => {
  const key = await rotateKey()(
    { name: request.vault.name, sku: request.vault.record.sku },
    request.params.name,
    request.audit.forChange(),
  );
  return ok(keyBundle(request.vault, key));
});
