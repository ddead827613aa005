import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeSign } from '#lib/keys/key-crypto-operations.ts';
import { signSchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const sign = keyUseCase(makeSign);

export const handler = vaultOperation(keyRoutes, 'sign', async (request) => {
  const input = parseBody(signSchema, request.body);
  return ok(await sign()(request.vault, request.params.name, request.params.version, input));
});
