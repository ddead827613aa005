import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { secretBundle } from '#lib/secrets/secret-bundles.ts';
import { updateSecretSchema } from '#lib/secrets/secret-schemas.ts';
import { makeUpdateSecret } from '#lib/secrets/update-secret.ts';

const updateSecret = secretUseCase(makeUpdateSecret);

export const handler = vaultOperation(secretRoutes, 'UpdateSecret', async (request) => {
  const input = parseBody(updateSecretSchema, request.body);
  const secret = await updateSecret()(
    request.vault.name,
    request.params.name,
    request.params.version,
    input,
    request.audit.forChange(),
  );
  return ok(secretBundle(request.vault, secret));
});
