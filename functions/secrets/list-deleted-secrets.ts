import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { nextLink } from '#lib/http/vault-request.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeListDeletedSecrets, pageRequest } from '#lib/secrets/list-secrets.ts';
import { deletedSecretItem } from '#lib/secrets/secret-bundles.ts';

const listDeletedSecrets = secretUseCase(makeListDeletedSecrets);

export const handler = vaultOperation(secretRoutes, 'GetDeletedSecrets', async (request) => {
  const page = pageRequest(
    request.query.get('maxresults') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listDeletedSecrets()(request.vault.name, page);
  return ok({
    value: result.items
      .filter((s) => request.visible === 'all' || request.visible.has(s.name.toLowerCase()))
      .map((s) => deletedSecretItem(request.vault, s)),
    nextLink: nextLink(request, '/deletedsecrets', result.nextToken),
  });
});
