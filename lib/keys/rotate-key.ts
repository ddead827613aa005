import type { AuditEntry } from '../audit/audit-log.ts';
import { requireKeyTypeAllowed } from '../vaults/tier.ts';
import type { KeyVault } from './create-key.ts';
import { findLiveKeyVersion } from './get-key.ts';
import { addDuration, parseIsoDuration } from './iso-duration.ts';
import { decodeFacts } from './key-facts.ts';
import type { KeysDeps } from './keys-deps.ts';
import { storeNewKeyVersion } from './new-key-version.ts';

/**
 * RotateKey: a new version with the latest's type, size or curve, key_ops and
 * tags, made where the latest lives; it becomes the latest, and older versions
 * keep decrypting and verifying. When the key's rotation policy sets
 * attributes.expiryTime, the new version expires that long after now.
 */
export function makeRotateKey(
  deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>,
) {
  return async (vault: KeyVault, rawName: string | undefined, audit?: AuditEntry) => {
    const latest = await findLiveKeyVersion(deps, vault.name, rawName);
    const facts = decodeFacts(latest.facts);
    requireKeyTypeAllowed(vault.sku, facts.kty);
    const stored = await deps.store.getRotationPolicy(vault.name, latest.name);
    const expiryTime = stored ? expiryTimeOf(stored.policy) : undefined;
    const backend = facts.protection === 'software' ? deps.backends.software : await deps.backends.hsm();
    const version = deps.newVersionId();
    const made = await backend.create(
      {
        kty: facts.kty,
        keyOps: facts.keyOps,
        ...(facts.kty !== 'EC' &&
          facts.kty !== 'EC-HSM' &&
          facts.keySize !== undefined && { keySize: facts.keySize }),
        ...(facts.crv !== undefined && { crv: facts.crv }),
      },
      { vault: vault.name, name: latest.name, version },
    );
    const exp = expiryTime ? addDuration(deps.now(), parseIsoDuration(expiryTime, 'expiryTime')) : undefined;
    return storeNewKeyVersion(
      deps,
      backend,
      { vault: vault.name, name: latest.name, version },
      made,
      { attributes: exp === undefined ? null : { exp }, tags: latest.tags ?? null },
      audit,
    );
  };
}

function expiryTimeOf(policy: string): string | undefined {
  const parsed = JSON.parse(policy) as { attributes?: { expiryTime?: string } };
  return parsed.attributes?.expiryTime ?? undefined;
}
