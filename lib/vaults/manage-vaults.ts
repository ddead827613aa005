import type { AuditEntry } from '../audit/audit-log.ts';
import type { Principal } from '../auth/token-verifier.ts';
import { BadParameterError, ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { Page, PageRequest } from '../secrets/model.ts';
import type { VaultStore } from '../store/vault-store.ts';
import type { AccessPolicy, Vault, VaultProperties } from './model.ts';
import { MAX_ACCESS_POLICIES, VAULT_NAME_PATTERN } from './model.ts';
import { newVault } from './new-vault.ts';
import type { AccessPolicyInput, VaultPut } from './vault-schemas.ts';

export interface VaultDeps {
  readonly store: VaultStore;
  /** Unix seconds. */
  readonly now: () => number;
  readonly newId: () => string;
  /** Drops this container's cached copy after a change. */
  readonly forget: (name: string) => void;
  /** The deployment's tenant: a new vault's default. */
  readonly tenantId: string;
  /**
   * Purge only: finds the HSM material of the vault's keys before its items
   * go, and returns what destroys it once they are gone.
   */
  readonly hsmKeysOf?: (vault: string) => Promise<() => Promise<void>>;
}

const DAY = 86_400;

export const vaultNotFound = (name: string) =>
  new NotFoundError('VaultNotFound', `Vault ${name.slice(0, 24)} was not found in this deployment.`);

function requireVaultName(name: string | undefined): string {
  if (!name || !VAULT_NAME_PATTERN.test(name)) {
    throw new BadParameterError(
      'Vault names are 3-24 characters: a letter first, then letters, digits and hyphens, ending in a letter or digit.',
    );
  }
  return name.toLowerCase();
}

/** Reads the stored vault, changes it, and writes it back conditionally; retried when another write came first. */
async function mutate(
  deps: VaultDeps,
  name: string,
  change: (vault: Vault) => Vault,
  audit?: AuditEntry,
): Promise<Vault> {
  for (let attempt = 0; ; attempt++) {
    const current = await deps.store.get(name);
    if (!current) throw vaultNotFound(name);
    try {
      const saved = await deps.store.replace({ ...change(current), updatedAt: deps.now() }, audit);
      deps.forget(name);
      return saved;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 3) throw error;
    }
  }
}

function live(vault: Vault | undefined, name: string): Vault {
  if (!vault || vault.deletion) throw vaultNotFound(name);
  return vault;
}

/** Applies the given properties; the rules Azure enforces on an existing vault. */
function applyProperties(vault: Vault, input: VaultPut): Vault {
  const p = input.properties ?? {};
  if (vault.enablePurgeProtection && p.enablePurgeProtection === false) {
    throw new BadParameterError('enablePurgeProtection cannot be turned off once it is on.');
  }
  if (
    p.softDeleteRetentionInDays !== undefined &&
    p.softDeleteRetentionInDays !== vault.softDeleteRetentionInDays
  ) {
    throw new BadParameterError(
      'softDeleteRetentionInDays is set when a vault is created and cannot be changed.',
    );
  }
  if (p.tenantId !== undefined && p.tenantId.toLowerCase() !== vault.tenantId.toLowerCase()) {
    throw new BadParameterError("A vault's tenantId cannot be changed.");
  }
  return {
    ...vault,
    ...(p.sku && { sku: p.sku.name }),
    ...(p.enableRbacAuthorization !== undefined && { enableRbacAuthorization: p.enableRbacAuthorization }),
    ...(p.enablePurgeProtection && { enablePurgeProtection: true }),
    ...(p.accessPolicies && { accessPolicies: p.accessPolicies.map(toPolicy) }),
    ...(input.tags && { tags: input.tags }),
  };
}

const toPolicy = (p: AccessPolicyInput): AccessPolicy => ({
  tenantId: p.tenantId,
  objectId: p.objectId,
  ...(p.applicationId && { applicationId: p.applicationId }),
  permissions: p.permissions,
});

/** PUT: creates the vault (its creator becomes its administrator), recovers it (createMode recover), or updates it. */
export function makePutVault(deps: VaultDeps) {
  return async (rawName: string | undefined, input: VaultPut, creator: Principal, audit?: AuditEntry) => {
    const name = requireVaultName(rawName);
    const existing = await deps.store.get(name);
    if (existing?.deletion) {
      if (input.properties?.createMode !== 'recover') {
        throw new ConflictError(
          `Vault ${name} is soft-deleted; its name cannot be reused until it is purged. Recover it (createMode recover) or purge it.`,
        );
      }
      return { vault: await recover(deps, name, audit), created: false };
    }
    if (existing)
      return { vault: await mutate(deps, name, (v) => applyProperties(v, input), audit), created: false };
    if (input.properties?.createMode === 'recover') throw vaultNotFound(name);
    const p = input.properties ?? {};
    const properties: VaultProperties = {
      tenantId: p.tenantId ?? creator.tenantId ?? deps.tenantId,
      sku: p.sku?.name ?? 'standard',
      enableRbacAuthorization: p.enableRbacAuthorization ?? true,
      accessPolicies: (p.accessPolicies ?? []).map(toPolicy),
      softDeleteRetentionInDays: p.softDeleteRetentionInDays ?? 90,
      enablePurgeProtection: p.enablePurgeProtection ?? false,
      ...(input.tags && { tags: input.tags }),
    };
    const vault = newVault(name, properties, creator, deps.now(), deps.newId);
    if (vault.accessPolicies.length > MAX_ACCESS_POLICIES) {
      throw new BadParameterError(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
    }
    await deps.store.create(vault, audit);
    deps.forget(name);
    return { vault, created: true };
  };
}

export function makePatchVault(deps: VaultDeps) {
  return async (rawName: string | undefined, input: VaultPut, audit?: AuditEntry) => {
    const name = rawName?.toLowerCase() ?? '';
    live(await deps.store.get(name), name);
    return mutate(deps, name, (v) => applyProperties(live(v, name), input), audit);
  };
}

export function makeGetVault(deps: Pick<VaultDeps, 'store'>) {
  return async (rawName: string | undefined) => live(await deps.store.get(rawName ?? ''), rawName ?? '');
}

export function makeGetDeletedVault(deps: Pick<VaultDeps, 'store'>) {
  return async (rawName: string | undefined) => {
    const vault = await deps.store.get(rawName ?? '');
    if (!vault?.deletion) throw vaultNotFound(rawName ?? '');
    return vault;
  };
}

export function makeListVaults(deps: Pick<VaultDeps, 'store'>) {
  return (deleted: boolean, page: PageRequest): Promise<Page<Vault>> => deps.store.list(deleted, page);
}

/** Soft delete: the vault and everything in it stay recoverable for its retention; its name stays taken. */
export function makeDeleteVault(deps: VaultDeps) {
  return async (rawName: string | undefined, audit?: AuditEntry) => {
    const name = rawName?.toLowerCase() ?? '';
    return mutate(
      deps,
      name,
      (v) => {
        const vault = live(v, name);
        const now = deps.now();
        return {
          ...vault,
          deletion: { deletionDate: now, scheduledPurgeDate: now + vault.softDeleteRetentionInDays * DAY },
        };
      },
      audit,
    );
  };
}

async function recover(deps: VaultDeps, name: string, audit?: AuditEntry): Promise<Vault> {
  return mutate(
    deps,
    name,
    (v) => {
      if (!v.deletion) throw vaultNotFound(name);
      const { deletion: _deletion, ...rest } = v;
      return rest;
    },
    audit,
  );
}

export function makeRecoverVault(deps: VaultDeps) {
  return (rawName: string | undefined, audit?: AuditEntry) =>
    recover(deps, rawName?.toLowerCase() ?? '', audit);
}

/** Purge: refused while purge protection holds the vault (until its retention ends). */
export function makePurgeVault(deps: VaultDeps) {
  return async (rawName: string | undefined, audit?: AuditEntry) => {
    const name = rawName?.toLowerCase() ?? '';
    const vault = await deps.store.get(name);
    if (!vault?.deletion) throw vaultNotFound(name);
    if (vault.enablePurgeProtection && deps.now() < vault.deletion.scheduledPurgeDate) {
      throw new ForbiddenError(
        `Vault ${name} has purge protection: it can be purged only after its retention ends at ` +
          `${new Date(vault.deletion.scheduledPurgeDate * 1000).toISOString()}.`,
        'PurgeProtected',
      );
    }
    const destroyHsmKeys = await deps.hsmKeysOf?.(name);
    await deps.store.purge(name, audit);
    deps.forget(name);
    await destroyHsmKeys?.();
  };
}

const same = (a: AccessPolicy, b: AccessPolicyInput) =>
  a.tenantId.toLowerCase() === b.tenantId.toLowerCase() &&
  a.objectId.toLowerCase() === b.objectId.toLowerCase() &&
  (a.applicationId ?? '').toLowerCase() === (b.applicationId ?? '').toLowerCase();

const KINDS = ['keys', 'secrets', 'certificates', 'storage'] as const;

/** add merges permissions in, replace sets them, remove takes them out (a policy left empty goes). */
export function makeUpdateAccessPolicies(deps: VaultDeps) {
  return async (
    rawName: string | undefined,
    operationKind: string | undefined,
    policies: AccessPolicyInput[],
    audit?: AuditEntry,
  ) => {
    const kind = operationKind?.toLowerCase();
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') {
      throw new BadParameterError("operationKind must be 'add', 'replace' or 'remove'.");
    }
    const name = rawName?.toLowerCase() ?? '';
    return mutate(
      deps,
      name,
      (v) => {
        let list = [...live(v, name).accessPolicies];
        for (const input of policies) {
          const index = list.findIndex((p) => same(p, input));
          const current = index >= 0 ? list[index] : undefined;
          const permissions = Object.fromEntries(
            KINDS.map((k) => {
              const had = current?.permissions[k] ?? [];
              const given = input.permissions[k] ?? [];
              if (kind === 'replace') return [k, given];
              if (kind === 'add') return [k, [...new Set([...had, ...given])]];
              return [k, had.filter((p) => !given.some((g) => g.toLowerCase() === p.toLowerCase()))];
            }),
          );
          const next = { ...toPolicy(input), permissions };
          const empty = KINDS.every((k) => (permissions[k] ?? []).length === 0);
          if (index >= 0)
            list = empty ? list.filter((_, i) => i !== index) : list.map((p, i) => (i === index ? next : p));
          else if (kind !== 'remove' && !empty) list.push(next);
        }
        if (list.length > MAX_ACCESS_POLICIES) {
          throw new BadParameterError(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
        }
        return { ...v, accessPolicies: list };
      },
      audit,
    );
  };
}
