import type { AccessPolicy, RoleAssignment, Vault, VaultProperties } from './model.ts';
import { POLICY_PERMISSIONS } from './permissions.ts';
import { findRoleDefinition } from './role-definitions.ts';

const ADMINISTRATOR = findRoleDefinition('Key Vault Administrator')?.id as string;

/** Every permission of every kind: what a vault's creator gets in an access-policy vault. */
export function allPermissions(): AccessPolicy['permissions'] {
  return {
    keys: [...POLICY_PERMISSIONS.keys],
    secrets: [...POLICY_PERMISSIONS.secrets],
    certificates: [...POLICY_PERMISSIONS.certificates],
    storage: [...POLICY_PERMISSIONS.storage],
  };
}

/**
 * A new vault. Its creator becomes its first administrator, by the vault's
 * mode: a Key Vault Administrator role assignment at vault scope (RBAC), or an
 * access policy with every permission (access policies).
 */
export function newVault(
  name: string,
  properties: VaultProperties,
  creator: { objectId: string },
  now: number,
  newAssignmentName: () => string,
): Vault {
  const creatorHasPolicy = properties.accessPolicies.some(
    (p) => p.objectId.toLowerCase() === creator.objectId.toLowerCase() && !p.applicationId,
  );
  const accessPolicies =
    properties.enableRbacAuthorization || creatorHasPolicy
      ? properties.accessPolicies
      : [
          ...properties.accessPolicies,
          { tenantId: properties.tenantId, objectId: creator.objectId, permissions: allPermissions() },
        ];
  const roleAssignments: RoleAssignment[] = properties.enableRbacAuthorization
    ? [
        {
          name: newAssignmentName(),
          scope: '/',
          roleDefinitionId: ADMINISTRATOR,
          principalId: creator.objectId,
        },
      ]
    : [];
  return {
    ...properties,
    name: name.toLowerCase(),
    accessPolicies,
    roleAssignments,
    createdAt: now,
    createdBy: creator.objectId,
    updatedAt: now,
    revision: 0,
  };
}
