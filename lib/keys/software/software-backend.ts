import { BadParameterError } from '#lib/errors.ts';
import type { KeyBackend } from '#lib/keys/key-backends.ts';
import { factsOf } from '#lib/keys/key-facts.ts';
import { generateSoftwareKey } from '#lib/keys/software/key-generation.ts';
import { nobleEcdsaEngine } from '#lib/keys/software/noble-ecdsa-engine.ts';
import { SoftwareKey } from '#lib/keys/software/software-key.ts';

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
    return SoftwareKey.fromPkcs8(privatePart, facts.keyOps, { ecdsa: nobleEcdsaEngine });
  },
  async destroy() {
    // The sealed private part goes with the version items.
  },
};
