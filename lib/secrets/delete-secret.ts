/**
 * Soft delete, get deleted, recover and purge, for secrets and (with
 * KEY_NAMES) keys: the same store contract, named for their kind.
 */
import type { AuditEntry } from '../audit/audit-log.ts';
import { ForbiddenError } from '../errors.ts';
import type { Deletion } from './model.ts';
import { type ObjectNames, SECRET_NAMES } from './names.ts';
import type { SecretsDeps } from './secrets-deps.ts';

/** What deletion and purge need to know about the vault. */
export interface RetentionSettings {
  readonly retentionDays: number;
  readonly purgeProtection: boolean;
}

const DAY = 86_400;

/** Soft-deletes an object with all its versions; it stays recoverable for the retention period. */
export function makeDeleteSecret(deps: Pick<SecretsDeps, 'store' | 'now'>, names = SECRET_NAMES) {
  return async (
    vault: string,
    rawName: string | undefined,
    settings: RetentionSettings,
    audit?: AuditEntry,
  ) => {
    const name = names.lookup(rawName);
    const now = deps.now();
    const head = await deps.store.softDelete(
      vault,
      name,
      { deletedDate: now, scheduledPurgeDate: now + settings.retentionDays * DAY },
      audit,
    );
    if (!head) throw names.notFound(name);
    return head;
  };
}

export function makeGetDeletedSecret(deps: Pick<SecretsDeps, 'store'>, names = SECRET_NAMES) {
  return async (vault: string, rawName: string | undefined) => {
    const name = rawName ?? '';
    const head = await deps.store.getHead(vault, lookupDeleted(names, name));
    if (!head?.deletion) throw names.deletedNotFound(name);
    return head;
  };
}

export function makeRecoverDeletedSecret(deps: Pick<SecretsDeps, 'store'>, names = SECRET_NAMES) {
  return async (vault: string, rawName: string | undefined, audit?: AuditEntry) => {
    const name = rawName ?? '';
    const head = await deps.store.recover(vault, lookupDeleted(names, name), audit);
    if (!head) throw names.deletedNotFound(name);
    return head;
  };
}

/** Purge protection: a protected vault's deleted objects are purged only once their retention has ended. */
export function requirePurgeAllowed(
  names: ObjectNames,
  name: string,
  deletion: Deletion,
  settings: RetentionSettings,
  now: number,
): void {
  if (settings.purgeProtection && now < deletion.scheduledPurgeDate) {
    throw new ForbiddenError(
      `Operation purge is not allowed on ${names.label} ${name}: the vault has purge protection, and its retention ` +
        `ends at ${new Date(deletion.scheduledPurgeDate * 1000).toISOString()}.`,
      'PurgeProtected',
    );
  }
}

/** Purges a deleted secret for good (under purge protection, only once its retention has ended). */
export function makePurgeDeletedSecret(deps: Pick<SecretsDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    settings: RetentionSettings,
    audit?: AuditEntry,
  ) => {
    const name = lookupDeleted(SECRET_NAMES, rawName ?? '');
    if (settings.purgeProtection) {
      const head = await deps.store.getHead(vault, name);
      if (!head?.deletion) throw SECRET_NAMES.deletedNotFound(name);
      requirePurgeAllowed(SECRET_NAMES, name, head.deletion, settings, deps.now());
    }
    if (!(await deps.store.purge(vault, name, audit))) throw SECRET_NAMES.deletedNotFound(name);
  };
}

/** A deleted object's name: one that cannot exist is not found among the deleted. */
export function lookupDeleted(names: ObjectNames, name: string): string {
  try {
    return names.lookup(name);
  } catch {
    throw names.deletedNotFound(name);
  }
}
