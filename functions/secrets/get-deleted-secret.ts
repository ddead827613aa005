import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeGetDeletedSecret } from '#lib/secrets/delete-secret.ts';
import { deletedSecretBundle } from '#lib/secrets/secret-bundles.ts';

const getDeletedSecret = secretUseCase(makeGetDeletedSecret);

export const handler = vaultOperation(secretRoutes, 'GetDeletedSecret', async (request) => {
  const head = await getDeletedSecret()(request.vault.name, request.params.name);
  return ok(deletedSecretBundle(request.vault, head));
});
