import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeWrapKey } from '#lib/keys/key-crypto-operations.ts';
import { keyOperationSchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const wrapKey = keyUseCase(makeWrapKey);

export const handler = vaultOperation(keyRoutes, 'wrapKey', async (request) => {
  const input = parseBody(keyOperationSchema, request.body);
  return ok(await wrapKey()(request.vault, request.params.name, request.params.version, input));
});
