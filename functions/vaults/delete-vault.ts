import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makeDeleteVault } from '#lib/vaults/manage-vaults.ts';
import { deletedVaultResource } from '#lib/vaults/vault-resources.ts';

const deleteVault = vaultManagement(makeDeleteVault);

export const handler = managementOperation(managementRoutes, 'Vaults_Delete', async (request) =>
  ok(deletedVaultResource(await deleteVault()(request.params.vault, request.audit.forChange()))),
);
