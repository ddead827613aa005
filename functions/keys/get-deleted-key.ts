import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { deletedKeyBundle } from '#lib/keys/key-bundles.ts';
import { makeGetDeletedKey } from '#lib/keys/key-lifecycle.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const getDeletedKey = keyUseCase(makeGetDeletedKey);

export const handler = vaultOperation(keyRoutes, 'GetDeletedKey', async (request) => {
  const head = await getDeletedKey()(request.vault.name, request.params.name);
  return ok(deletedKeyBundle(request.vault, head.latest, head.deletion));
});
