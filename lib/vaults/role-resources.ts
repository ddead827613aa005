import type { RoleAssignment } from './model.ts';
import { findRoleDefinition, ROLE_DEFINITIONS, type RoleDefinition } from './role-definitions.ts';

/** The Managed HSM data-plane RBAC shapes, which the Azure SDK's access control client reads. */
const AUTHORIZATION = '/providers/Microsoft.Authorization';

export const roleDefinitionResourceId = (guid: string) => `${AUTHORIZATION}/roleDefinitions/${guid}`;

/** '/' is the vault itself: its assignments' ids start at '/providers/…'. */
export const roleAssignmentResourceId = (scope: string, name: string) =>
  `${scope === '/' ? '' : scope}${AUTHORIZATION}/roleAssignments/${name}`;

export function roleAssignmentResource(assignment: RoleAssignment) {
  const guid =
    findRoleDefinition(assignment.roleDefinitionId)?.id ?? assignment.roleDefinitionId.split('/').pop();
  return {
    id: roleAssignmentResourceId(assignment.scope, assignment.name),
    name: assignment.name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      scope: assignment.scope,
      roleDefinitionId: roleDefinitionResourceId(guid ?? ''),
      principalId: assignment.principalId,
    },
  };
}

export function roleDefinitionResource(role: RoleDefinition) {
  return {
    id: roleDefinitionResourceId(role.id),
    name: role.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: role.roleName,
      description: role.description,
      type: 'AKVBuiltInRole',
      permissions: [
        {
          actions: [...role.actions],
          notActions: [],
          dataActions: [...role.dataActions],
          notDataActions: [],
        },
      ],
      assignableScopes: ['/'],
    },
  };
}

/** RoleDefinitions_List: every built-in role; there are no custom ones. */
export const roleDefinitionList = () => ({ value: ROLE_DEFINITIONS.map(roleDefinitionResource) });
