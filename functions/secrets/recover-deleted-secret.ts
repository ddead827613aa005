import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeRecoverDeletedSecret } from '#lib/secrets/delete-secret.ts';
import { secretBundle } from '#lib/secrets/secret-bundles.ts';

const recoverDeletedSecret = secretUseCase(makeRecoverDeletedSecret);

export const handler = vaultOperation(secretRoutes, 'RecoverDeletedSecret', async (request) => {
  const head = await recoverDeletedSecret()(
    request.vault.name,
    request.params.name,
    request.audit.forChange(),
  );
  const { sealed: _sealed, ...meta } = head.latest;
  return ok(secretBundle(request.vault, meta));
});
