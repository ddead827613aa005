import { ok } from '#lib/http/responses.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { nextLink } from '#lib/http/vault-request.ts';
import { secretUseCase } from '#lib/runtime/secrets.ts';
import { makeListSecrets, pageRequest } from '#lib/secrets/list-secrets.ts';
import { secretItem } from '#lib/secrets/secret-bundles.ts';

const listSecrets = secretUseCase(makeListSecrets);

export const handler = vaultOperation(secretRoutes, 'GetSecrets', async (request) => {
  const page = pageRequest(
    request.query.get('maxresults') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listSecrets()(request.vault.name, page);
  return ok({
    value: result.items
      .filter((s) => request.visible === 'all' || request.visible.has(s.name.toLowerCase()))
      .map((s) => secretItem(request.vault, s)),
    nextLink: nextLink(request, '/secrets', result.nextToken),
  });
});
