import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeDeleteSecret } from '#lib/secrets/delete-secret.ts';
import { deletedSecretBundle } from '#lib/secrets/secret-bundles.ts';

const deleteSecret = secretUseCase(makeDeleteSecret);

export const handler = vaultOperation(secretRoutes, 'DeleteSecret', async (request) => {
  const head = await deleteSecret()(
    request.vault.name,
    request.params.name,
    request.vault,
    request.audit.forChange(),
  );
  return ok(deletedSecretBundle(request.vault, head));
});
