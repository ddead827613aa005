/**
 * HSM-protected keys (kty RSA-HSM, EC-HSM, oct-HSM) through PKCS#11
 * (DESIGN.md #5): generated inside the token as non-extractable, sensitive
 * token objects, and used there. Arca stores only the handle, a string that is
 * both the CKA_LABEL of the key's objects and (hex after the prefix) their
 * CKA_ID; the public part of an RSA or EC key is read from the token as a JWK.
 *
 * This file holds the public types and Pkcs11KeyStore (generate, open,
 * attributes, destroy). The rest is in:
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

/** Keys of one token, through its (shared) session. */
export class Pkcs11KeyStore {
  constructor(private readonly session: Pkcs11Session) {}

  /** Generates a key inside the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true; CKA_EXTRACTABLE false. */
  async generateKey(spec: HsmKeySpec): Promise<GeneratedHsmKey> {
    const id = randomBytes(16);
    const handle = `arca-${id.toString('hex')}`;
    const common = [
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_ID, value: id },
      { type: ck.CKA_LABEL, value: handle },
    ];
    const privateKey = [
      ...common,
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: false },
      { type: ck.CKA_DERIVE, value: false },
    ];
    const publicKey = [...common, { type: ck.CKA_PRIVATE, value: false }];

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
            { type: ck.CKA_VERIFY, value: true },
            { type: ck.CKA_ENCRYPT, value: true },
            { type: ck.CKA_WRAP, value: false },
          ],
          [
            ...privateKey,
            { type: ck.CKA_SIGN, value: true },
            { type: ck.CKA_DECRYPT, value: true },
            { type: ck.CKA_UNWRAP, value: false },
          ],
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
            { type: ck.CKA_VERIFY, value: true },
          ],
          [...privateKey, { type: ck.CKA_SIGN, value: true }],
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
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
          { type: ck.CKA_VALUE_LEN, value: size / 8 },
          { type: ck.CKA_ENCRYPT, value: true },
          { type: ck.CKA_DECRYPT, value: true },
          { type: ck.CKA_WRAP, value: true },
          { type: ck.CKA_UNWRAP, value: true },
          { type: ck.CKA_SIGN, value: false },
          { type: ck.CKA_VERIFY, value: false },
        ]);
        return { handle, kty: 'oct-HSM' as const, publicJwk: { kty: 'oct-HSM' as const } };
      });
    }
    throw new BadParameterError('kty must be RSA-HSM, EC-HSM or oct-HSM for an HSM key');
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
