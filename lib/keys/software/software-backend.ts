import { createHash } from 'node:crypto';
import { BadParameterError } from '#lib/errors.ts';
import type { KeyBackend } from '#lib/keys/key-backends.ts';
import { factsOf } from '#lib/keys/key-facts.ts';
import { generateSoftwareKey } from '#lib/keys/software/key-generation.ts';
import { nobleEcdsaEngine } from '#lib/keys/software/noble-ecdsa-engine.ts';
import { SoftwareKey } from '#lib/keys/software/software-key.ts';

/**
 * Parsing a PKCS#8 private key costs more than an RSA-2048 signature
 * (bench/key-sign.ts), so opened keys are kept for a bounded time and number,
 * as unwrapped data keys are (lib/crypto/data-key-cache.ts): in this
 * process's memory only, looked up by a hash of the unsealed part and the
 * key_ops (an update of key_ops opens it anew).
 */
class OpenedKeyCache {
  readonly #entries = new Map<string, { key: SoftwareKey; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
  ) {}

  open(keyOps: readonly string[], pkcs8: Buffer): SoftwareKey {
    const id = createHash('sha256').update(pkcs8).update(keyOps.join(',')).digest('base64url');
    const now = Date.now();
    const hit = this.#entries.get(id);
    if (hit && hit.expires > now) return hit.key;
    const key = SoftwareKey.fromPkcs8(pkcs8, keyOps, { ecdsa: nobleEcdsaEngine });
    this.#entries.delete(id);
    if (this.#entries.size >= this.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(id, { key, expires: now + this.maxAgeMs });
    return key;
  }
}

const openedKeys = new OpenedKeyCache(1_000, 5 * 60_000);

/** Software keys (kty RSA, EC): made and used in this process with node:crypto, stored sealed. */
export const softwareBackend: KeyBackend = {
  async create(spec) {
    if (spec.kty !== 'RSA' && spec.kty !== 'EC') {
      throw new BadParameterError('kty must be RSA or EC for a software key');
    }
    const material = await generateSoftwareKey(
      spec.kty === 'RSA'
        ? {
            kty: 'RSA',
            ...(spec.keySize !== undefined && { keySize: spec.keySize }),
            ...(spec.publicExponent !== undefined && { publicExponent: spec.publicExponent }),
          }
        : { kty: 'EC', ...(spec.crv !== undefined && { curve: spec.crv }) },
    );
    return { facts: factsOf(material.publicJwk, 'software', spec.keyOps), privatePart: material.pkcs8 };
  },
  async open(facts, privatePart) {
    return openedKeys.open(facts.keyOps, privatePart);
  },
  async destroy() {
    // The sealed private part goes with the version items.
  },
};
