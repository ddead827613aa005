import type { AuditEntry } from '../audit/audit-log.ts';
import {
  lookupDeleted,
  makeDeleteSecret,
  makeGetDeletedSecret,
  makeRecoverDeletedSecret,
  type RetentionSettings,
  requirePurgeAllowed,
} from '../secrets/delete-secret.ts';
import { decodeFacts } from './key-facts.ts';
import { deletedKeyNotFound, KEY_NAMES } from './key-names.ts';
import { type KeysDeps, keySealContext } from './keys-deps.ts';

/** Soft delete, get deleted and recover: the secrets' use cases, named for keys. */
export const makeDeleteKey = (deps: Pick<KeysDeps, 'store' | 'now'>) => makeDeleteSecret(deps, KEY_NAMES);
export const makeGetDeletedKey = (deps: Pick<KeysDeps, 'store'>) => makeGetDeletedSecret(deps, KEY_NAMES);
export const makeRecoverDeletedKey = (deps: Pick<KeysDeps, 'store'>) =>
  makeRecoverDeletedSecret(deps, KEY_NAMES);

/**
 * Purges a deleted key: its items go, then the HSM material of HSM versions
 * is destroyed (PKCS#11 objects destroyed, KMS keys scheduled for deletion).
 * The items go first, so a version never points at destroyed material; a
 * destroy that fails leaves an orphan in the HSM, never a broken key.
 */
export function makePurgeDeletedKey(deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    settings: RetentionSettings,
    audit?: AuditEntry,
  ) => {
    const name = lookupDeleted(KEY_NAMES, rawName ?? '');
    const head = await deps.store.getHead(vault, name);
    if (!head?.deletion) throw deletedKeyNotFound(name);
    requirePurgeAllowed(KEY_NAMES, name, head.deletion, settings, deps.now());
    const versions = await deps.store.versionsOf(vault, name);
    if (!(await deps.store.purge(vault, name, audit))) throw deletedKeyNotFound(name);
    for (const version of versions) {
      const facts = decodeFacts(version.facts);
      if (facts.protection === 'software') continue;
      try {
        const part = await deps.barrier.open(
          version.sealed,
          keySealContext(vault, version.name, version.version),
        );
        await (await deps.backends.hsm()).destroy(facts, part);
      } catch {
        // Best effort: the key is gone from the vault either way; the HSM object is an orphan to clean up.
      }
    }
  };
}

/**
 * A vault's purge: finds the HSM material of every key of the vault (live or
 * deleted, every version) while the items still name it, and returns what
 * destroys it, to run once the items are gone (best effort, as for one key).
 */
export function makeVaultHsmKeys(deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends'>) {
  return async (vault: string): Promise<() => Promise<void>> => {
    const found: { facts: ReturnType<typeof decodeFacts>; part: Buffer }[] = [];
    for (const list of [
      deps.store.listSecrets.bind(deps.store),
      deps.store.listDeletedSecrets.bind(deps.store),
    ]) {
      let token: string | undefined;
      do {
        const page = await list(vault, { maxResults: 25, ...(token && { token }) });
        for (const key of page.items) {
          for (const version of await deps.store.versionsOf(vault, key.name)) {
            const facts = decodeFacts(version.facts);
            if (facts.protection === 'software') continue;
            const part = await deps.barrier.open(
              version.sealed,
              keySealContext(vault, version.name, version.version),
            );
            found.push({ facts, part });
          }
        }
        token = page.nextToken;
      } while (token);
    }
    return async () => {
      if (found.length === 0) return;
      const backend = await deps.backends.hsm().catch(() => undefined);
      for (const { facts, part } of found) {
        await backend?.destroy(facts, part).catch(() => undefined);
        part.fill(0);
      }
    };
  };
}
