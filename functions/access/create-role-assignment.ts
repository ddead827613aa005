import { parseBody } from '#lib/http/body.ts';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { vaultUseCase } from '#lib/runtime/vault-use-case.ts';
import { createRoleAssignmentSchema } from '#lib/vaults/role-assignment-schemas.ts';
import { makeCreateRoleAssignment } from '#lib/vaults/role-assignments.ts';
import { roleAssignmentResource } from '#lib/vaults/role-resources.ts';

const createRoleAssignment = vaultUseCase(makeCreateRoleAssignment);

export const handler = vaultOperation(accessRoutes, 'RoleAssignments_Create', async (request) => {
  const input = parseBody(createRoleAssignmentSchema, request.body);
  const { assignment, created } = await createRoleAssignment()(
    request.vault.name,
    request.objectScope ?? '/',
    request.params.assignment,
    input.properties,
    request.audit.forChange(201),
  );
  return { status: created ? 201 : 200, body: roleAssignmentResource(assignment) };
});
