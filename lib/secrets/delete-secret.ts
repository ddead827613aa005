import { deletedSecretNotFound, lookupSecretName, secretNotFound } from './names.ts';
import type { SecretsDeps } from './secrets-deps.ts';

const DAY = 86_400;

/** Soft-deletes a secret with all its versions; it stays recoverable for the retention period. */
export function makeDeleteSecret(deps: Pick<SecretsDeps, 'store' | 'now' | 'retentionDays'>) {
  return async (vault: string, rawName: string | undefined) => {
    const name = lookupSecretName(rawName);
    const now = deps.now();
    const head = await deps.store.softDelete(vault, name, {
      deletedDate: now,
      scheduledPurgeDate: now + deps.retentionDays * DAY,
    });
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
  return async (vault: string, rawName: string | undefined) => {
    const name = rawName ?? '';
    const head = await deps.store.recover(vault, lookupSecretNameOrDeleted(name));
    if (!head) throw deletedSecretNotFound(name);
    return head;
  };
}

export function makePurgeDeletedSecret(deps: Pick<SecretsDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined) => {
    const name = rawName ?? '';
    if (!(await deps.store.purge(vault, lookupSecretNameOrDeleted(name)))) throw deletedSecretNotFound(name);
  };
}

function lookupSecretNameOrDeleted(name: string): string {
  try {
    return lookupSecretName(name);
  } catch {
    throw deletedSecretNotFound(name);
  }
}
