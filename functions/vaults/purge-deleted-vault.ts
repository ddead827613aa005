import { managementOperation } from '#lib/http/management-operation.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makePurgeVault } from '#lib/vaults/manage-vaults.ts';

const purgeVault = vaultManagement(makePurgeVault);

export const handler = managementOperation('Vaults_PurgeDeleted', async (request) => {
  await purgeVault()(request.params.vault, request.audit.forChange());
  return { status: 200 };
});
