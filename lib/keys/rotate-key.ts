import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersion } from '../secrets/model.ts';
import type { KeyStore } from '../store/key-store.ts';
import { requireKeyTypeAllowed } from '../vaults/tier.ts';
import type { KeyVault } from './create-key.ts';
import { findLiveKeyVersion } from './get-key.ts';
import { addDuration } from './iso-duration.ts';
import { decodeFacts } from './key-facts.ts';
import type { KeysDeps } from './keys-deps.ts';
import { storeNewKeyVersion } from './new-key-version.ts';
import { expiryTimeOf, parseStoredPolicy } from './rotation-policy.ts';

type RotateDeps = Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>;

/**
 * RotateKey: a new version with the latest's type, size or curve, key_ops and
 * tags, made where the latest lives; it becomes the latest, and older versions
 * keep decrypting and verifying. When the key's rotation policy sets
 * attributes.expiryTime, the new version expires that long after now.
 */
export function makeRotateKey(deps: RotateDeps) {
  return async (vault: KeyVault, rawName: string | undefined, audit?: AuditEntry) => {
    const latest = await findLiveKeyVersion(deps, vault.name, rawName);
    return rotateVersion(deps, vault, latest, audit);
  };
}

/**
 * Makes the version that replaces `latest`. With `once`, as the rotation
 * sweep asks, it lands only while `latest` is still the latest version
 * (RotationSupersededError otherwise, and an HSM key made for it is destroyed
 * again), so that sweeps running at once rotate a version once.
 */
export async function rotateVersion(
  deps: RotateDeps,
  vault: KeyVault,
  latest: SecretVersion,
  audit?: AuditEntry,
  options: { once?: boolean } = {},
): Promise<SecretVersion> {
  const facts = decodeFacts(latest.facts);
  requireKeyTypeAllowed(vault.sku, facts.kty);
  const stored = await deps.store.getRotationPolicy(vault.name, latest.name);
  const expiryTime = stored ? expiryTimeOf(parseStoredPolicy(stored.policy)) : undefined;
  const backend = facts.protection === 'software' ? deps.backends.software : await deps.backends.hsm();
  const version = deps.newVersionId();
  const made = await backend.create(
    {
      kty: facts.kty,
      keyOps: facts.keyOps,
      ...(facts.keySize !== undefined && { keySize: facts.keySize }),
      ...(facts.crv !== undefined && { crv: facts.crv }),
    },
    { vault: vault.name, name: latest.name, version },
  );
  const exp = expiryTime ? addDuration(deps.now(), expiryTime) : undefined;
  return storeNewKeyVersion(
    options.once ? { ...deps, store: landingOnlyOver(deps.store, latest.version) } : deps,
    backend,
    { vault: vault.name, name: latest.name, version },
    made,
    { attributes: exp === undefined ? null : { exp }, tags: latest.tags ?? null },
    audit,
  );
}

/** The store, whose putVersion lands a new version only while `from` is still the latest (putRotatedVersion). */
function landingOnlyOver(store: KeyStore, from: string): KeyStore {
  const guarded: KeyStore = Object.create(store);
  guarded.putVersion = (vault, version, audit) => store.putRotatedVersion(vault, version, from, audit);
  return guarded;
}
