import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { nextLink } from '#lib/http/vault-request.ts';
import { keyItem } from '#lib/keys/key-bundles.ts';
import { makeListKeyVersions } from '#lib/keys/list-keys.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';
import { pageRequest } from '#lib/secrets/list-secrets.ts';

const listKeyVersions = keyUseCase(makeListKeyVersions);

export const handler = vaultOperation(keyRoutes, 'GetKeyVersions', async (request) => {
  const page = pageRequest(
    request.query.get('maxresults') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listKeyVersions()(request.vault.name, request.params.name, page);
  const name = encodeURIComponent(result.items[0]?.name ?? request.params.name ?? '');
  return ok({
    value: result.items.map((k) => keyItem(request.vault, k, true)),
    nextLink: nextLink(request, `/keys/${name}/versions`, result.nextToken),
  });
});
