import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeCreateKey } from '#lib/keys/create-key.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { createKeySchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const createKey = keyUseCase(makeCreateKey);

export const handler = vaultOperation(keyRoutes, 'CreateKey', async (request) => {
  const input = parseBody(createKeySchema, request.body);
  const key = await createKey()(
    { name: request.vault.name, sku: request.vault.record.sku },
    request.params.name,
    input,
    request.audit.forChange(),
  );
  return ok(keyBundle(request.vault, key));
});
