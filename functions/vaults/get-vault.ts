import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makeGetVault } from '#lib/vaults/manage-vaults.ts';
import { vaultResource } from '#lib/vaults/vault-resources.ts';

const getVault = vaultManagement(makeGetVault);

export const handler = managementOperation(managementRoutes, 'Vaults_Get', async (request) =>
  ok(vaultResource(await getVault()(request.params.vault), request.host)),
);
