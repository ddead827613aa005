import { ok } from '#lib/http/responses.ts';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { vaultUseCase } from '#lib/runtime/vault-use-case.ts';
import { makeGetRoleAssignment } from '#lib/vaults/role-assignments.ts';
import { roleAssignmentResource } from '#lib/vaults/role-resources.ts';

const getRoleAssignment = vaultUseCase(makeGetRoleAssignment);

export const handler = vaultOperation(accessRoutes, 'RoleAssignments_Get', async (request) => {
  const assignment = await getRoleAssignment()(
    request.vault.name,
    request.objectScope ?? '/',
    request.params.assignment,
  );
  return ok(roleAssignmentResource(assignment));
});
