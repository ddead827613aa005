import { parseBody } from '#lib/http/body.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makePatchVault } from '#lib/vaults/manage-vaults.ts';
import { vaultResource } from '#lib/vaults/vault-resources.ts';
import { vaultPatchSchema } from '#lib/vaults/vault-schemas.ts';

const patchVault = vaultManagement(makePatchVault);

export const handler = managementOperation(managementRoutes, 'Vaults_Update', async (request) => {
  const input = parseBody(vaultPatchSchema, request.body);
  return ok(
    vaultResource(await patchVault()(request.params.vault, input, request.audit.forChange()), request.host),
  );
});
