import { parseBody } from '#lib/http/body.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makePutVault } from '#lib/vaults/manage-vaults.ts';
import { vaultResource } from '#lib/vaults/vault-resources.ts';
import { vaultPutSchema } from '#lib/vaults/vault-schemas.ts';

const putVault = vaultManagement(makePutVault);

export const handler = managementOperation(managementRoutes, 'Vaults_CreateOrUpdate', async (request) => {
  const input = parseBody(vaultPutSchema, request.body);
  const { vault, created } = await putVault()(
    request.params.vault,
    input,
    request.principal,
    request.audit.forChange(),
  );
  return { status: created ? 201 : 200, body: vaultResource(vault, request.host) };
});
