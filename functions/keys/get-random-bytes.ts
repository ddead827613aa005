import { randomBytes } from 'node:crypto';
import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { randomBytesSchema } from '#lib/keys/key-schemas.ts';

/** 1 to 128 bytes from the operating system's CSPRNG (node:crypto), base64url. */
export const handler = vaultOperation(keyRoutes, 'GetRandomBytes', async (request) => {
  const { count } = parseBody(randomBytesSchema, request.body);
  return ok({ value: randomBytes(count).toString('base64url') });
});
