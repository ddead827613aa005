import { noContent } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makePurgeDeletedKey } from '#lib/keys/key-lifecycle.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const purgeDeletedKey = keyUseCase(makePurgeDeletedKey);

export const handler = vaultOperation(keyRoutes, 'PurgeDeletedKey', async (request) => {
  await purgeDeletedKey()(
    request.vault.name,
    request.params.name,
    request.vault,
    request.audit.forChange(204),
  );
  return noContent();
});
