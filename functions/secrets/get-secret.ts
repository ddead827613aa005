import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeGetSecret } from '#lib/secrets/get-secret.ts';
import { secretBundle } from '#lib/secrets/secret-bundles.ts';

const getSecret = secretUseCase(makeGetSecret);

export const handler = vaultOperation(secretRoutes, 'GetSecret', async (request) => {
  const { secret, value } = await getSecret()(
    request.vault.name,
    request.params.name,
    request.params.version,
  );
  return ok(secretBundle(request.vault, secret, value));
});
