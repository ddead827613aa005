import { BadParameterError } from '#lib/errors.ts';
import type { KeyBackend } from '#lib/keys/key-backends.ts';
import { factsOf } from '#lib/keys/key-facts.ts';
import type { CurveName } from '#lib/keys/key-operations.ts';
import { octKeyBits } from './pkcs11-import.ts';
import { type HsmKey, Pkcs11KeyStore } from './pkcs11-keystore.ts';
import type { Pkcs11Session } from './pkcs11-session.ts';

const OPEN_KEYS_CACHED = 1_000;

/**
 * HSM keys through PKCS#11 (SoftHSM2 locally, the CloudHSM PKCS#11 library on
 * AWS): generated in the token (or imported into it), non-extractable, used
 * there. Arca keeps the
 * handle (sealed, like any private part) and the public facts. HsmKey does
 * not know key_ops: the use case checks them before any call (key-crypto.ts).
 */
export function pkcs11Backend(session: Pkcs11Session): KeyBackend {
  const store = new Pkcs11KeyStore(session);
  const open = new Map<string, HsmKey>();
  return {
    async create(spec) {
      const generated =
        spec.kty === 'RSA-HSM'
          ? await store.generateKey({
              kty: 'RSA-HSM',
              ...(spec.keySize !== undefined && { keySize: spec.keySize }),
              ...(spec.publicExponent !== undefined && { publicExponent: spec.publicExponent }),
            })
          : spec.kty === 'EC-HSM'
            ? await store.generateKey({
                kty: 'EC-HSM',
                ...(spec.crv !== undefined && { curve: spec.crv as CurveName }),
              })
            : spec.kty === 'oct-HSM'
              ? await store.generateKey({
                  kty: 'oct-HSM',
                  ...(spec.keySize !== undefined && { keySize: spec.keySize }),
                })
              : undefined;
      if (!generated) throw new BadParameterError('kty must be RSA-HSM, EC-HSM or oct-HSM for an HSM key');
      const octBits = spec.kty === 'oct-HSM' ? (spec.keySize ?? 256) : undefined;
      return {
        facts: factsOf(generated.publicJwk, 'pkcs11', spec.keyOps, octBits),
        privatePart: Buffer.from(generated.handle, 'utf8'),
      };
    },
    async importKey(jwk, keyOps) {
      const imported = await store.importKey(jwk);
      const octBits = imported.kty === 'oct-HSM' ? octKeyBits(jwk) : undefined;
      return {
        facts: factsOf(imported.publicJwk, 'pkcs11', keyOps, octBits),
        privatePart: Buffer.from(imported.handle, 'utf8'),
      };
    },
    async open(_facts, privatePart) {
      const handle = privatePart.toString('utf8');
      const cached = open.get(handle);
      if (cached) return cached;
      const key = await store.open(handle);
      if (open.size >= OPEN_KEYS_CACHED) open.delete(open.keys().next().value as string);
      open.set(handle, key);
      return key;
    },
    async destroy(_facts, privatePart) {
      const handle = privatePart.toString('utf8');
      open.delete(handle);
      await store.destroy(handle);
    },
  };
}
