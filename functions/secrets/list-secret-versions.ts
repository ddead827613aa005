import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { nextLink } from '#lib/http/vault-request.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeListSecretVersions, pageRequest } from '#lib/secrets/list-secrets.ts';
import { secretVersionItem } from '#lib/secrets/secret-bundles.ts';

const listSecretVersions = secretUseCase(makeListSecretVersions);

export const handler = vaultOperation(secretRoutes, 'GetSecretVersions', async (request) => {
  const page = pageRequest(
    request.query.get('maxresults') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listSecretVersions()(request.vault.name, request.params.name, page);
  const name = encodeURIComponent(result.items[0]?.name ?? request.params.name ?? '');
  return ok({
    value: result.items.map((s) => secretVersionItem(request.vault, s)),
    nextLink: nextLink(request, `/secrets/${name}/versions`, result.nextToken),
  });
});
