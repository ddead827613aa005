import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { makeRecoverDeletedKey } from '#lib/keys/key-lifecycle.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const recoverDeletedKey = keyUseCase(makeRecoverDeletedKey);

export const handler = vaultOperation(keyRoutes, 'RecoverDeletedKey', async (request) => {
  const head = await recoverDeletedKey()(request.vault.name, request.params.name, request.audit.forChange());
  return ok(keyBundle(request.vault, head.latest));
});
