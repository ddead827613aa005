import { noContent } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makePurgeDeletedSecret } from '#lib/secrets/delete-secret.ts';

const purgeDeletedSecret = secretUseCase(makePurgeDeletedSecret);

export const handler = vaultOperation(secretRoutes, 'PurgeDeletedSecret', async (request) => {
  await purgeDeletedSecret()(
    request.vault.name,
    request.params.name,
    request.vault,
    request.audit.forChange(204),
  );
  return noContent();
});
