import type { AuditEntry } from '../audit/audit-log.ts';
import { ForbiddenError } from '../errors.ts';
import { deletedSecretNotFound, lookupSecretName, secretNotFound } from './names.ts';
import type { SecretsDeps } from './secrets-deps.ts';

/** What deletion and purge need to know about the vault. */
export interface RetentionSettings {
  readonly retentionDays: number;
  readonly purgeProtection: boolean;
}

const DAY = 86_400;

/** Soft-deletes a secret with all its versions; it stays recoverable for the retention period. */
export function makeDeleteSecret(deps: Pick<SecretsDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    settings: RetentionSettings,
    audit?: AuditEntry,
  ) => {
    const name = lookupSecretName(rawName);
    const now = deps.now();
    const head = await deps.store.softDelete(
      vault,
      name,
      { deletedDate: now, scheduledPurgeDate: now + settings.retentionDays * DAY },
      audit,
    );
    if (!head) throw secretNotFound(name);
    return head;
  };
}

export function makeGetDeletedSecret(deps: Pick<SecretsDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined) => {
    const name = rawName ?? '';
    const head = await deps.store.getHead(vault, lookupSecretNameOrDeleted(name));
    if (!head?.deletion) throw deletedSecretNotFound(name);
    return head;
  };
}

export function makeRecoverDeletedSecret(deps: Pick<SecretsDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined, audit?: AuditEntry) => {
    const name = rawName ?? '';
    const head = await deps.store.recover(vault, lookupSecretNameOrDeleted(name), audit);
    if (!head) throw deletedSecretNotFound(name);
    return head;
  };
}

/** Purge protection: a protected vault's deleted objects are purged only once their retention has ended. */
export function makePurgeDeletedSecret(deps: Pick<SecretsDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    settings: RetentionSettings,
    audit?: AuditEntry,
  ) => {
    const name = lookupSecretNameOrDeleted(rawName ?? '');
    if (settings.purgeProtection) {
      const head = await deps.store.getHead(vault, name);
      if (!head?.deletion) throw deletedSecretNotFound(name);
      if (deps.now() < head.deletion.scheduledPurgeDate) {
        throw new ForbiddenError(
          `Operation purge is not allowed on secret ${name}: the vault has purge protection, and its retention ends ` +
            `at ${new Date(head.deletion.scheduledPurgeDate * 1000).toISOString()}.`,
          'PurgeProtected',
        );
      }
    }
    if (!(await deps.store.purge(vault, name, audit))) throw deletedSecretNotFound(name);
  };
}

function lookupSecretNameOrDeleted(name: string): string {
  try {
    return lookupSecretName(name);
  } catch {
    throw deletedSecretNotFound(name);
  }
}
