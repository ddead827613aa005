import { ok } from '#lib/http/responses.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeDeleteSecret } from '#lib/secrets/delete-secret.ts';
import { deletedSecretBundle } from '#lib/secrets/secret-bundles.ts';

const deleteSecret = secretUseCase(makeDeleteSecret);

export const handler = vaultOperation('DeleteSecret', async (request) => {
  const head = await deleteSecret()(
    request.vault.name,
    request.params.name,
    request.vault,
    request.audit.forChange(),
  );
  return ok(deletedSecretBundle(request.vault, head));
});
