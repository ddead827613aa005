import type { Principal } from '../auth/token-verifier.ts';
import { ForbiddenError } from '../errors.ts';
import type { Route } from '../http/routes.ts';
import type { AccessPolicy, RoleAssignment, Vault } from '../vaults/model.ts';
import { type PolicyKind, policyAllows } from '../vaults/permissions.ts';
import { actionMatches, findRoleDefinition } from '../vaults/role-definitions.ts';

/** How access was granted, for the audit record. */
export interface AccessGrant {
  readonly via: 'accessPolicy' | 'roleAssignment';
  /** The policy's object id, or the role assignment's name. */
  readonly id: string;
}

/** The object a request is about, when its route is object-scoped: '/secrets/{name}'. */
export function objectScopeOf(
  route: Route,
  params: Readonly<Record<string, string | undefined>>,
): string | undefined {
  return route.objectScope && params.name ? `/${route.objectScope}/${params.name.toLowerCase()}` : undefined;
}

const caller = (p: Principal) => `appid=${p.appId ?? '-'};oid=${p.objectId}`;
const isFor = (principal: Principal, id: string) =>
  id.toLowerCase() === principal.objectId.toLowerCase() ||
  (principal.groups ?? []).some((g) => g.toLowerCase() === id.toLowerCase());

/**
 * The one check, run before any data is touched: deny by default. RBAC vaults
 * use role assignments at vault or object scope; access-policy vaults use
 * their policies. Role assignment management always goes by role assignments.
 * The refusal names the operation and the caller, never a value.
 */
export function authorize(
  vault: Vault,
  principal: Principal,
  route: Route,
  objectScope?: string,
): AccessGrant {
  const byRoles = vault.enableRbacAuthorization || route.permission.startsWith('rbac/');
  if (byRoles) {
    const assignment = matchingAssignments(vault, principal, objectScope).find((a) =>
      roleAllows(a, route.dataAction ?? ''),
    );
    if (assignment) return { via: 'roleAssignment', id: assignment.name };
    throw new ForbiddenError(
      `Caller is not authorized to perform action on resource. Caller: ${caller(principal)}. ` +
        `Action: '${route.dataAction}'. Operation: ${route.operationId}. Vault: ${vault.name}.`,
      'ForbiddenByRbac',
    );
  }
  const [kind, permission] = route.permission.split('/') as [PolicyKind, string];
  const policy = vault.accessPolicies.find(
    (p) => policyMatches(vault, p, principal) && policyAllows(p.permissions[kind], permission),
  );
  if (policy) return { via: 'accessPolicy', id: policy.objectId };
  throw new ForbiddenError(
    `The user, group or application '${caller(principal)}' does not have ${kind} ${permission} permission ` +
      `on key vault '${vault.name}' (operation ${route.operationId}).`,
    'ForbiddenByPolicy',
  );
}

/**
 * For list routes: which objects of a collection a caller may see when it
 * holds no vault-wide right. 'all' when it does; otherwise the names its
 * object-scoped roles cover.
 */
export function visibleObjects(
  vault: Vault,
  principal: Principal,
  route: Route,
  collection: string,
): 'all' | Set<string> {
  try {
    authorize(vault, principal, route);
    return 'all';
  } catch (error) {
    if (!vault.enableRbacAuthorization) throw error;
    const prefix = `/${collection}/`;
    const names = vault.roleAssignments
      .filter(
        (a) =>
          isFor(principal, a.principalId) &&
          a.scope.startsWith(prefix) &&
          roleAllows(a, route.dataAction ?? ''),
      )
      .map((a) => a.scope.slice(prefix.length));
    if (names.length === 0) throw error;
    return new Set(names);
  }
}

/** The grant recorded for a list served through object-scoped roles only. */
export function scopedListGrant(vault: Vault, principal: Principal): AccessGrant {
  const first = vault.roleAssignments.find((a) => isFor(principal, a.principalId) && a.scope !== '/');
  return { via: 'roleAssignment', id: first?.name ?? 'object-scoped' };
}

function matchingAssignments(vault: Vault, principal: Principal, objectScope?: string): RoleAssignment[] {
  return vault.roleAssignments.filter(
    (a) =>
      isFor(principal, a.principalId) &&
      (a.scope === '/' || (objectScope !== undefined && a.scope === objectScope)),
  );
}

function roleAllows(assignment: RoleAssignment, action: string): boolean {
  const role = findRoleDefinition(assignment.roleDefinitionId);
  if (!role) return false;
  const patterns = action.startsWith('Microsoft.Authorization/') ? role.actions : role.dataActions;
  return patterns.some((pattern) => actionMatches(pattern, action));
}

function policyMatches(vault: Vault, policy: AccessPolicy, principal: Principal): boolean {
  if (policy.tenantId.toLowerCase() !== vault.tenantId.toLowerCase()) return false;
  if (!isFor(principal, policy.objectId)) return false;
  return (
    !policy.applicationId || policy.applicationId.toLowerCase() === (principal.appId ?? '').toLowerCase()
  );
}
