import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { pageRequest } from '#lib/secrets/list-secrets.ts';
import { makeListVaults } from '#lib/vaults/manage-vaults.ts';
import { managementNextLink } from '#lib/vaults/management-paging.ts';
import { vaultResource } from '#lib/vaults/vault-resources.ts';

const listVaults = vaultManagement(makeListVaults);

export const handler = managementOperation(managementRoutes, 'Vaults_List', async (request) => {
  const page = pageRequest(
    request.query.get('$top') ?? undefined,
    request.query.get('$skiptoken') ?? undefined,
  );
  const result = await listVaults()(false, page);
  return ok({
    value: result.items.map((v) => vaultResource(v, request.host)),
    nextLink: managementNextLink(request, '/vaults', result.nextToken),
  });
});
