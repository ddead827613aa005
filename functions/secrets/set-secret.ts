import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { secretBundle } from '#lib/secrets/secret-bundles.ts';
import { setSecretSchema } from '#lib/secrets/secret-schemas.ts';
import { makeSetSecret } from '#lib/secrets/set-secret.ts';

const setSecret = secretUseCase(makeSetSecret);

export const handler = vaultOperation(secretRoutes, 'SetSecret', async (request) => {
  const input = parseBody(setSecretSchema, request.body);
  const { secret, value } = await setSecret()(
    request.vault.name,
    request.params.name,
    input,
    request.audit.forChange(),
  );
  return ok(secretBundle(request.vault, secret, value));
});
