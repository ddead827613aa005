import { managementOperation } from '#lib/http/management-operation.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makePurgeVault } from '#lib/vaults/manage-vaults.ts';

const purgeVault = vaultManagement(makePurgeVault);

export const handler = managementOperation(managementRoutes, 'Vaults_PurgeDeleted', async (request) => {
  await purgeVault()(request.params.vault, request.audit.forChange());
  return { status: 200 };
});
