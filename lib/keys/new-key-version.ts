import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersion } from '../secrets/model.ts';
import { newVersionAttributes } from '../secrets/set-secret.ts';
import type { KeyBackend, MadeKey } from './key-backends.ts';
import { encodeFacts } from './key-facts.ts';
import { type KeysDeps, keySealContext } from './keys-deps.ts';

export interface NewVersionAttributes {
  readonly enabled?: boolean | null | undefined;
  readonly nbf?: number | null | undefined;
  readonly exp?: number | null | undefined;
}

/**
 * Stores a key version that a backend has just made: its private part (or
 * HSM handle) sealed under a fresh data key, its public facts beside it; it
 * becomes the latest. Should the store refuse (a soft-deleted name), an HSM
 * key made for it is destroyed again, so no orphan stays in the HSM.
 */
export async function storeNewKeyVersion(
  deps: Pick<KeysDeps, 'store' | 'barrier' | 'now'>,
  backend: KeyBackend,
  target: { vault: string; name: string; version: string },
  made: MadeKey,
  extra: { attributes?: NewVersionAttributes | null; tags?: Readonly<Record<string, string>> | null },
  audit?: AuditEntry,
): Promise<SecretVersion> {
  const { vault, name, version } = target;
  const now = deps.now();
  const attrs = extra.attributes;
  try {
    const sealed = await deps.barrier.seal(made.privatePart, keySealContext(vault, name, version));
    const key: SecretVersion = {
      name,
      version,
      attributes: newVersionAttributes(attrs, now),
      ...(extra.tags != null && { tags: extra.tags }),
      facts: encodeFacts(made.facts),
      sealed,
    };
    await deps.store.putVersion(vault, key, audit);
    return key;
  } catch (error) {
    await backend.destroy(made.facts, made.privatePart).catch(() => undefined);
    throw error;
  } finally {
    made.privatePart.fill(0);
  }
}
