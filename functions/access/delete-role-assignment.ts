import { ok } from '#lib/http/responses.ts';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { vaultUseCase } from '#lib/runtime/vault-use-case.ts';
import { makeDeleteRoleAssignment } from '#lib/vaults/role-assignments.ts';
import { roleAssignmentResource } from '#lib/vaults/role-resources.ts';

const deleteRoleAssignment = vaultUseCase(makeDeleteRoleAssignment);

export const handler = vaultOperation(accessRoutes, 'RoleAssignments_Delete', async (request) => {
  const removed = await deleteRoleAssignment()(
    request.vault.name,
    request.objectScope ?? '/',
    request.params.assignment,
    request.audit.forChange(),
  );
  return ok(roleAssignmentResource(removed));
});
