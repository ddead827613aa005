import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeVerify } from '#lib/keys/key-crypto-operations.ts';
import { verifySchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const verify = keyUseCase(makeVerify);

export const handler = vaultOperation(keyRoutes, 'verify', async (request) => {
  const input = parseBody(verifySchema, request.body);
  return ok(await verify()(request.vault, request.params.name, request.params.version, input));
});
