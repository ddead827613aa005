import { parseBody } from '#lib/http/body.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { vaultManagement } from '#lib/runtime/vault-management.ts';
import { makeUpdateAccessPolicies } from '#lib/vaults/manage-vaults.ts';
import { accessPoliciesResource } from '#lib/vaults/vault-resources.ts';
import { accessPolicyUpdateSchema } from '#lib/vaults/vault-schemas.ts';

const updateAccessPolicies = vaultManagement(makeUpdateAccessPolicies);

export const handler = managementOperation(managementRoutes, 'Vaults_UpdateAccessPolicy', async (request) => {
  const { properties } = parseBody(accessPolicyUpdateSchema, request.body);
  const kind = request.params.operationKind;
  const vault = await updateAccessPolicies()(
    request.params.vault,
    kind,
    properties.accessPolicies,
    request.audit.forChange(),
  );
  return ok(accessPoliciesResource(vault, kind?.toLowerCase() ?? ''));
});
