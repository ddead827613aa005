import { ok } from '#lib/http/responses.ts';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { vaultUseCase } from '#lib/runtime/vault-use-case.ts';
import { makeListRoleAssignments } from '#lib/vaults/role-assignments.ts';
import { roleAssignmentResource } from '#lib/vaults/role-resources.ts';

const listRoleAssignments = vaultUseCase(makeListRoleAssignments);

export const handler = vaultOperation(accessRoutes, 'RoleAssignments_ListForScope', async (request) => {
  const assignments = await listRoleAssignments()(
    request.vault.name,
    request.objectScope ?? '/',
    request.query.get('$filter') ?? undefined,
  );
  return ok({ value: assignments.map(roleAssignmentResource), nextLink: null });
});
