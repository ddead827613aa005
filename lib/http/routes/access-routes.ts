import type { HttpMethod, Route } from '../route.ts';

const KVA = 'Microsoft.Authorization';

/** Role assignment and definition routes (the Managed HSM data-plane shape), at vault or object scope. */
const rbac = (
  operationId: string,
  method: HttpMethod,
  suffix: string,
  file: string,
  action: string,
  auditOperation: string,
  summary: string,
): Route[] =>
  (['', '/secrets/{name}', '/keys/{name}', '/certificates/{name}'] as const).map((scope) => ({
    operationId,
    method,
    path: `${scope}/providers/${KVA}/${suffix}`,
    handler: `functions/access/${file}.ts`,
    plane: 'data',
    permission: `rbac/${action}`,
    dataAction: `${KVA}/${suffix.split('/')[0]}/${action}`,
    ...(scope && { objectScope: scope.split('/')[1] as Route['objectScope'] }),
    auditOperation,
    summary,
  }));

/** Role assignment and definition routes (one part of the route table: lib/http/routes.ts). */
// biome-ignore format: one route a line reads as a table
export const accessRoutes: readonly Route[] = [
  ...rbac('RoleAssignments_Create', 'PUT', 'roleAssignments/{assignment}', 'create-role-assignment', 'write', 'RoleAssignmentCreate', 'Assign a role to a principal at this scope.'),
  ...rbac('RoleAssignments_Get', 'GET', 'roleAssignments/{assignment}', 'get-role-assignment', 'read', 'RoleAssignmentGet', 'Get a role assignment.'),
  ...rbac('RoleAssignments_Delete', 'DELETE', 'roleAssignments/{assignment}', 'delete-role-assignment', 'delete', 'RoleAssignmentDelete', 'Delete a role assignment.'),
  ...rbac('RoleAssignments_ListForScope', 'GET', 'roleAssignments', 'list-role-assignments', 'read', 'RoleAssignmentList', 'List the role assignments at or above this scope.'),
  ...rbac('RoleDefinitions_List', 'GET', 'roleDefinitions', 'list-role-definitions', 'read', 'RoleDefinitionList', 'List the built-in role definitions.').slice(0, 1),
];
