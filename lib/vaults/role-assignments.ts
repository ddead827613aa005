import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError, ConflictError, NotFoundError } from '../errors.ts';
import type { VaultStore } from '../store/vault-store.ts';
import { MAX_ROLE_ASSIGNMENTS, type RoleAssignment, type Vault } from './model.ts';
import type { CreateRoleAssignmentInput } from './role-assignment-schemas.ts';
import { findRoleDefinition } from './role-definitions.ts';

/** What the role assignment use cases may ask for; reads take the store only. */
export interface RoleAssignmentDeps {
  readonly store: Pick<VaultStore, 'get' | 'replace'>;
  /** Drops the cached vault record after a change, so this container sees it at once. */
  readonly forget: (vault: string) => void;
}

type ReadDeps = { readonly store: Pick<VaultStore, 'get'> };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The first write and three retries when another writer changed the vault in between. */
const WRITE_ATTEMPTS = 4;

/**
 * PUT: assigns a role at a scope ('/' or '/secrets/{name}' …). Assignments
 * cannot be changed: the same name with the same grant is an idempotent 200,
 * anything else under that name a conflict, as is a second name for a grant.
 */
export function makeCreateRoleAssignment(deps: RoleAssignmentDeps) {
  return async (
    vault: string,
    scope: string,
    rawName: string | undefined,
    input: CreateRoleAssignmentInput,
    audit?: AuditEntry,
  ) => {
    if (!rawName || !GUID.test(rawName)) {
      throw new BadParameterError('The role assignment name in the request URI must be a GUID.');
    }
    const role = findRoleDefinition(input.roleDefinitionId);
    if (!role) {
      throw new BadParameterError(
        `Unknown role definition '${input.roleDefinitionId.slice(0, 200)}': ` +
          'give the id or the name of a built-in role (RoleDefinitions_List lists them).',
      );
    }
    const wanted: RoleAssignment = {
      name: rawName.toLowerCase(),
      scope: scope.toLowerCase(),
      roleDefinitionId: role.id,
      principalId: input.principalId,
    };
    return changeAssignments(deps, vault, audit, (current) => {
      const existing = current.find((a) => a.name.toLowerCase() === wanted.name);
      if (existing) {
        if (sameGrant(existing, wanted)) return { result: { assignment: existing, created: false } };
        throw new ConflictError(
          `RoleAssignmentExists: role assignment ${wanted.name} already exists with another scope, role or ` +
            'principal; assignments cannot be changed, delete it first.',
        );
      }
      const duplicate = current.find((a) => sameGrant(a, wanted));
      if (duplicate) {
        throw new ConflictError(
          `RoleAssignmentExists: the principal already has this role at scope ${wanted.scope} ` +
            `(role assignment ${duplicate.name}).`,
        );
      }
      if (current.length >= MAX_ROLE_ASSIGNMENTS) {
        throw new BadParameterError(`A vault may have at most ${MAX_ROLE_ASSIGNMENTS} role assignments.`);
      }
      return { assignments: [...current, wanted], result: { assignment: wanted, created: true } };
    });
  };
}

/** GET: the assignment of that name at exactly this scope. */
export function makeGetRoleAssignment(deps: ReadDeps) {
  return async (vault: string, scope: string, rawName: string | undefined) => {
    const current = await liveVault(deps.store, vault);
    return findAt(current.roleAssignments, scope, rawName) ?? throwNotFound(rawName);
  };
}

/** DELETE: removes the assignment of that name at exactly this scope and returns it. */
export function makeDeleteRoleAssignment(deps: RoleAssignmentDeps) {
  return (vault: string, scope: string, rawName: string | undefined, audit?: AuditEntry) =>
    changeAssignments(deps, vault, audit, (current) => {
      const found = findAt(current, scope, rawName) ?? throwNotFound(rawName);
      return { assignments: current.filter((a) => a !== found), result: found };
    });
}

/**
 * GET list: what applies at this scope (at vault scope, everything), or with
 * `$filter=atScope()` only what is assigned exactly here; `principalId eq '…'`
 * narrows to one principal. Both may be joined with `and`.
 */
export function makeListRoleAssignments(deps: ReadDeps) {
  return async (vault: string, scope: string, filter?: string) => {
    const wanted = parseRoleAssignmentFilter(filter);
    const here = scope.toLowerCase();
    const current = await liveVault(deps.store, vault);
    return current.roleAssignments.filter(
      (a) =>
        (wanted.atScope ? a.scope === here : here === '/' || a.scope === '/' || a.scope === here) &&
        (wanted.principalId === undefined || a.principalId.toLowerCase() === wanted.principalId),
    );
  };
}

export interface RoleAssignmentFilter {
  readonly atScope: boolean;
  /** Lower-cased. */
  readonly principalId?: string;
}

/** The $filter forms Azure documents for role assignments that Arca serves; others are a 400. */
export function parseRoleAssignmentFilter(filter: string | undefined): RoleAssignmentFilter {
  let atScope = false;
  let principalId: string | undefined;
  if (filter === undefined || filter.trim() === '') return { atScope };
  for (const term of filter.trim().split(/\s+and\s+/i)) {
    const principal = /^principalId\s+eq\s+'([^']{1,128})'$/i.exec(term);
    if (/^atScope\(\)$/i.test(term) && !atScope) atScope = true;
    else if (principal?.[1] && principalId === undefined) principalId = principal[1].toLowerCase();
    else {
      throw new BadParameterError(
        "Unsupported $filter: use atScope(), principalId eq '{id}', or both joined with 'and'.",
      );
    }
  }
  return { atScope, ...(principalId !== undefined && { principalId }) };
}

/**
 * Reads the vault fresh (never the cache), applies `change`, and writes it
 * back conditional on the revision read; a concurrent writer costs a retry.
 * A change that returns no assignments writes nothing.
 */
async function changeAssignments<T>(
  deps: RoleAssignmentDeps,
  vault: string,
  audit: AuditEntry | undefined,
  change: (current: readonly RoleAssignment[]) => { assignments?: RoleAssignment[]; result: T },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const current = await liveVault(deps.store, vault);
    const { assignments, result } = change(current.roleAssignments);
    if (!assignments) return result;
    try {
      await deps.store.replace({ ...current, roleAssignments: assignments }, audit);
    } catch (error) {
      if (error instanceof ConflictError && attempt < WRITE_ATTEMPTS) continue;
      throw error;
    }
    deps.forget(vault);
    return result;
  }
}

async function liveVault(store: Pick<VaultStore, 'get'>, name: string): Promise<Vault> {
  const vault = await store.get(name);
  if (!vault || vault.deletion) {
    throw new NotFoundError('VaultNotFound', `Vault ${name} was not found in this deployment.`);
  }
  return vault;
}

function findAt(assignments: readonly RoleAssignment[], scope: string, name: string | undefined) {
  const wanted = name?.toLowerCase();
  const here = scope.toLowerCase();
  return assignments.find((a) => a.name.toLowerCase() === wanted && a.scope === here);
}

function sameGrant(a: RoleAssignment, b: RoleAssignment): boolean {
  return (
    a.scope === b.scope &&
    a.principalId.toLowerCase() === b.principalId.toLowerCase() &&
    roleGuid(a.roleDefinitionId) === roleGuid(b.roleDefinitionId)
  );
}

const roleGuid = (id: string) => findRoleDefinition(id)?.id ?? id.toLowerCase();

function throwNotFound(name: string | undefined): never {
  throw new NotFoundError(
    'RoleAssignmentNotFound',
    `Requested role assignment not found (Id = ${(name ?? '').slice(0, 64)}).`,
  );
}
