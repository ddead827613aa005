/**
 * HSM-protected keys (kty RSA-HSM, EC-HSM, oct-HSM) through PKCS#11
 * (DESIGN.md #5): generated inside the token (or imported into it, ImportKey
 * with Hsm: true) as non-extractable, sensitive token objects, and used there. Arca stores only the handle, a string that is
 * both the CKA_LABEL of the key's objects and (hex after the prefix) their
 * CKA_ID; the public part of an RSA or EC key is read from the token as a JWK.
 *
 * This file holds the public types and Pkcs11KeyStore (generate, import,
 * open, attributes, destroy). The rest is in:
 * - pkcs11-import.ts: the templates of the key objects (shared by generate
 *   and import), and the validation of an imported JWK;
 * - hsm-key.ts: HsmKey, the operations of an opened key, and nodeJwkOf;
 * - pkcs11-mechanisms.ts: key sizes, curves, hashes, the schemes of each
 *   algorithm and the PKCS#11 mechanisms that perform them;
 * - pkcs11-objects.ts: finding the key's objects and reading their attributes;
 * - oaep-decode.ts: the OAEP unpadding for tokens without OAEP with SHA-256.
 *
 * Every refusal of input is a BadParameterError; messages never carry key
 * material, plaintext or the PIN.
 */
import { randomBytes } from 'node:crypto';
import { BadParameterError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';
import { HsmKey } from './hsm-key.ts';
import {
  AES_SECRET_KEY,
  EC_PRIVATE_USAGE,
  EC_PUBLIC_USAGE,
  importObjects,
  keyObjectTemplates,
  RSA_PRIVATE_USAGE,
  RSA_PUBLIC_USAGE,
} from './pkcs11-import.ts';
import { CURVES, HSM_AES_KEY_SIZES, HSM_RSA_KEY_SIZES, type HsmKeyType } from './pkcs11-mechanisms.ts';
import {
  attribute,
  curveOf,
  ecPublicJwk,
  findKey,
  findObjects,
  idOf,
  keyTypeOf,
  rsaPublicJwk,
  ulong,
} from './pkcs11-objects.ts';
import { ck, type Pkcs11, type Pkcs11Handle, type Pkcs11Session } from './pkcs11-session.ts';

export { HsmKey, nodeJwkOf } from './hsm-key.ts';
export { HSM_AES_KEY_SIZES, HSM_RSA_KEY_SIZES, type HsmKeyType } from './pkcs11-mechanisms.ts';

export type HsmKeySpec =
  | { readonly kty: 'RSA-HSM'; readonly keySize?: number; readonly publicExponent?: number }
  | { readonly kty: 'EC-HSM'; readonly curve?: CurveName }
  | { readonly kty: 'oct-HSM'; readonly keySize?: number };

export interface GeneratedHsmKey {
  /** What Arca stores: the CKA_LABEL (and, hex, the CKA_ID) of the key's objects in the token. */
  readonly handle: string;
  readonly kty: HsmKeyType;
  /** n, e for RSA-HSM; crv, x, y for EC-HSM; only kty for oct-HSM. */
  readonly publicJwk: PublicJwk;
}

/** The protection attributes of the private (or secret) key object. */
export interface HsmKeyAttributes {
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
}

const RSA_PUBLIC_EXPONENT = 65537;

/** What a token answers when it will not hold the imported values: the caller's input. */
const IMPORT_REFUSED = ['CKR_ATTRIBUTE_VALUE_INVALID', 'CKR_KEY_SIZE_RANGE', 'CKR_DOMAIN_PARAMS_INVALID'];

/** Keys of one token, through its (shared) session. */
export class Pkcs11KeyStore {
  constructor(private readonly session: Pkcs11Session) {}

  /** Generates a key inside the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true; CKA_EXTRACTABLE false. */
  async generateKey(spec: HsmKeySpec): Promise<GeneratedHsmKey> {
    const id = randomBytes(16);
    const handle = `arca-${id.toString('hex')}`;
    const { privateKey, publicKey } = keyObjectTemplates(handle, id);

    if (spec.kty === 'RSA-HSM') {
      const size = spec.keySize ?? 2048;
      if (!HSM_RSA_KEY_SIZES.includes(size)) {
        throw new BadParameterError(
          `key_size must be one of ${HSM_RSA_KEY_SIZES.join(', ')} for an RSA-HSM key`,
        );
      }
      if (spec.publicExponent !== undefined && spec.publicExponent !== RSA_PUBLIC_EXPONENT) {
        throw new BadParameterError(`public_exponent must be ${RSA_PUBLIC_EXPONENT}`);
      }
      return this.#run('generate an RSA-HSM key', async (p, s) => {
        const pair = await p.C_GenerateKeyPairAsync(
          s,
          { mechanism: ck.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [
            ...publicKey,
            { type: ck.CKA_MODULUS_BITS, value: size },
            { type: ck.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ...RSA_PUBLIC_USAGE,
          ],
          [...privateKey, ...RSA_PRIVATE_USAGE],
        );
        return { handle, kty: 'RSA-HSM' as const, publicJwk: rsaPublicJwk(p, s, pair.publicKey) };
      });
    }

    if (spec.kty === 'EC-HSM') {
      const curve = spec.curve ?? 'P-256';
      if (!Object.hasOwn(CURVES, curve)) {
        throw new BadParameterError(`crv must be one of ${Object.keys(CURVES).join(', ')} for an EC-HSM key`);
      }
      return this.#run('generate an EC-HSM key', async (p, s) => {
        const pair = await p.C_GenerateKeyPairAsync(
          s,
          { mechanism: ck.CKM_EC_KEY_PAIR_GEN },
          [
            ...publicKey,
            { type: ck.CKA_EC_PARAMS, value: Buffer.from(CURVES[curve].params, 'hex') },
            ...EC_PUBLIC_USAGE,
          ],
          [...privateKey, ...EC_PRIVATE_USAGE],
        );
        return { handle, kty: 'EC-HSM' as const, publicJwk: ecPublicJwk(p, s, pair.publicKey, curve) };
      });
    }

    if (spec.kty === 'oct-HSM') {
      const size = spec.keySize ?? 256;
      if (!HSM_AES_KEY_SIZES.includes(size)) {
        throw new BadParameterError(
          `key_size must be one of ${HSM_AES_KEY_SIZES.join(', ')} for an oct-HSM key`,
        );
      }
      return this.#run('generate an oct-HSM key', async (p, s) => {
        await p.C_GenerateKeyAsync(s, { mechanism: ck.CKM_AES_KEY_GEN }, [
          ...privateKey,
          ...AES_SECRET_KEY,
          { type: ck.CKA_VALUE_LEN, value: size / 8 },
        ]);
        return { handle, kty: 'oct-HSM' as const, publicJwk: { kty: 'oct-HSM' as const } };
      });
    }
    throw new BadParameterError('kty must be RSA-HSM, EC-HSM or oct-HSM for an HSM key');
  }

  /**
   * Imports a JWK with private members (kty RSA/RSA-HSM, EC/EC-HSM, oct/oct-HSM)
   * into the token with C_CreateObject, under a fresh handle: the same
   * protection and usage as a generated key (CKA_SENSITIVE, not
   * CKA_EXTRACTABLE), though PKCS#11 then reports CKA_ALWAYS_SENSITIVE and
   * CKA_NEVER_EXTRACTABLE false, as the material was once outside. A
   * malformed or inconsistent JWK is a BadParameterError before the token is
   * touched; should a creation fail half-way, what was made is destroyed.
   */
  async importKey(jwk: unknown): Promise<GeneratedHsmKey> {
    const id = randomBytes(16);
    const handle = `arca-${id.toString('hex')}`;
    const objects = importObjects(jwk, keyObjectTemplates(handle, id));
    const operation = `import an ${objects.kty} key`;
    try {
      return await this.session.run(
        (p, s) => {
          const key = p.C_CreateObject(s, objects.key);
          const publicKey = objects.public ? p.C_CreateObject(s, objects.public) : undefined;
          const publicJwk =
            objects.kty === 'RSA-HSM'
              ? rsaPublicJwk(p, s, publicKey ?? key)
              : objects.kty === 'EC-HSM'
                ? ecPublicJwk(p, s, publicKey ?? key, objects.curve as CurveName)
                : objects.publicJwk;
          return { handle, kty: objects.kty, publicJwk };
        },
        { operation, inputRefused: IMPORT_REFUSED },
      );
    } catch (error) {
      // Whatever was made before the failure (on a new session, should the token have dropped this one).
      await this.destroy(handle).catch(() => undefined);
      throw error;
    } finally {
      objects.wipe();
    }
  }

  /** The key of a handle, ready for operations. NotFoundError (KeyNotFound) when the token has none. */
  async open(handle: string): Promise<HsmKey> {
    const id = idOf(handle);
    const refs = await this.#run('open an HSM key', (p, s) => findKey(p, s, handle, id));
    return this.#run('read an HSM key', (p, s) => {
      const kty = keyTypeOf(p, s, refs.key);
      if (kty === 'RSA-HSM') {
        const publicJwk = rsaPublicJwk(p, s, refs.public ?? refs.key);
        return new HsmKey(this.session, handle, id, kty, publicJwk, (publicJwk.n as Buffer).length, refs);
      }
      if (kty === 'EC-HSM') {
        const curve = curveOf(attribute(p, s, refs.key, ck.CKA_EC_PARAMS));
        const publicJwk = refs.public ? ecPublicJwk(p, s, refs.public, curve) : { kty, crv: curve };
        return new HsmKey(this.session, handle, id, kty, publicJwk, CURVES[curve].size, refs);
      }
      const size = ulong(attribute(p, s, refs.key, ck.CKA_VALUE_LEN));
      return new HsmKey(this.session, handle, id, kty, { kty }, size, refs);
    });
  }

  /** CKA_EXTRACTABLE, CKA_SENSITIVE, CKA_NEVER_EXTRACTABLE … of the private (or secret) key. */
  async attributes(handle: string): Promise<HsmKeyAttributes> {
    const id = idOf(handle);
    return this.#run('read the attributes of an HSM key', (p, s) => {
      const { key } = findKey(p, s, handle, id);
      const values = p.C_GetAttributeValue(s, key, [
        { type: ck.CKA_TOKEN },
        { type: ck.CKA_PRIVATE },
        { type: ck.CKA_SENSITIVE },
        { type: ck.CKA_EXTRACTABLE },
        { type: ck.CKA_ALWAYS_SENSITIVE },
        { type: ck.CKA_NEVER_EXTRACTABLE },
      ]);
      const flag = (i: number) => (values[i]?.value as Buffer | undefined)?.[0] === 1;
      return {
        token: flag(0),
        private: flag(1),
        sensitive: flag(2),
        extractable: flag(3),
        alwaysSensitive: flag(4),
        neverExtractable: flag(5),
      };
    });
  }

  /** Destroys every object of the handle (purge). False when the token held none. */
  async destroy(handle: string): Promise<boolean> {
    const id = idOf(handle);
    return this.#run('destroy an HSM key', (p, s) => {
      const objects = findObjects(p, s, [
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_LABEL, value: handle },
        { type: ck.CKA_ID, value: id },
      ]);
      for (const object of objects) p.C_DestroyObject(s, object);
      return objects.length > 0;
    });
  }

  #run<T>(operation: string, fn: (p: Pkcs11, s: Pkcs11Handle) => T | Promise<T>): Promise<T> {
    return this.session.run(fn, { operation });
  }
}
