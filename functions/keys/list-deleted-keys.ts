import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { nextLink } from '#lib/http/vault-request.ts';
import { deletedKeyItem } from '#lib/keys/key-bundles.ts';
import { makeListDeletedKeys } from '#lib/keys/list-keys.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';
import { pageRequest } from '#lib/secrets/list-secrets.ts';

const listDeletedKeys = keyUseCase(makeListDeletedKeys);

export const handler = vaultOperation(keyRoutes, 'GetDeletedKeys', async (request) => {
  const page = pageRequest(
    request.query.get('maxresults') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listDeletedKeys()(request.vault.name, page);
  return ok({
    value: result.items
      .filter((k) => request.visible === 'all' || request.visible.has(k.name.toLowerCase()))
      .map((k) => deletedKeyItem(request.vault, k)),
    nextLink: nextLink(request, '/deletedkeys', result.nextToken),
  });
});
