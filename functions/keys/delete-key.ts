import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { deletedKeyBundle } from '#lib/keys/key-bundles.ts';
import { makeDeleteKey } from '#lib/keys/key-lifecycle.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const deleteKey = keyUseCase(makeDeleteKey);

export const handler = vaultOperation(keyRoutes, 'DeleteKey', async (request) => {
  const head = await deleteKey()(
    request.vault.name,
    request.params.name,
    request.vault,
    request.audit.forChange(),
  );
  return ok(deletedKeyBundle(request.vault, head.latest, head.deletion));
});
