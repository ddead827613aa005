import { BadParameterError } from '#lib/errors.ts';
import type { KeyBackend } from '#lib/keys/key-backends.ts';
import { factsOf, publicJwkOfFacts } from '#lib/keys/key-facts.ts';
import type { CurveName } from '#lib/keys/key-operations.ts';
import { decodeWrapped, encodeWrapped } from './pkcs11-backup.ts';
import { octKeyBits } from './pkcs11-import.ts';
import {
  type HsmKey,
  type HsmKeyType,
  Pkcs11KeyStore,
  type Pkcs11KeyStoreOptions,
} from './pkcs11-keystore.ts';
import type { Pkcs11Session } from './pkcs11-session.ts';

const OPEN_KEYS_CACHED = 1_000;

/**
 * HSM keys through PKCS#11 (SoftHSM2 locally, the CloudHSM PKCS#11 library on
 * AWS): generated in the token (or imported into it), never out of it in the
 * clear, used there. Arca keeps the handle (sealed, like any private part)
 * and the public facts. With a backup key, versions back up wrapped under it
 * (pkcs11-backup.ts). HsmKey does
 * not know key_ops: the use case checks them before any call (key-crypto.ts).
 */
export function pkcs11Backend(session: Pkcs11Session, options: Pkcs11KeyStoreOptions = {}): KeyBackend {
  const store = new Pkcs11KeyStore(session, options);
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
    async open(facts, privatePart) {
      const handle = privatePart.toString('utf8');
      const cached = open.get(handle);
      if (cached) return cached;
      const key = await store.open(handle, facts.kty === 'oct-HSM' ? (facts.keySize ?? 0) / 8 : undefined);
      if (open.size >= OPEN_KEYS_CACHED) open.delete(open.keys().next().value as string);
      open.set(handle, key);
      return key;
    },
    async exportForBackup(_facts, privatePart) {
      return encodeWrapped(await store.exportForBackup(privatePart.toString('utf8')));
    },
    async importFromBackup(facts, exported) {
      const handle = await store.restoreFromBackup(decodeWrapped(exported), {
        kty: facts.kty as HsmKeyType,
        publicJwk: publicJwkOfFacts(facts),
      });
      return Buffer.from(handle, 'utf8');
    },
    async destroy(_facts, privatePart) {
      const handle = privatePart.toString('utf8');
      open.delete(handle);
      await store.destroy(handle);
    },
  };
}
