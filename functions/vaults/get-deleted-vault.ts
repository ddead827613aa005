import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makeGetDeletedVault } from '#lib/vaults/manage-vaults.ts';
import { deletedVaultResource } from '#lib/vaults/vault-resources.ts';

const getDeletedVault = vaultManagement(makeGetDeletedVault);

export const handler = managementOperation(managementRoutes, 'Vaults_GetDeleted', async (request) =>
  ok(deletedVaultResource(await getDeletedVault()(request.params.vault))),
);
