import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makeRecoverVault } from '#lib/vaults/manage-vaults.ts';
import { vaultResource } from '#lib/vaults/vault-resources.ts';

const recoverVault = vaultManagement(makeRecoverVault);

export const handler = managementOperation(managementRoutes, 'Vaults_Recover', async (request) =>
  ok(vaultResource(await recoverVault()(request.params.vault, request.audit.forChange()), request.host)),
);
