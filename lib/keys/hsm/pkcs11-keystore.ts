/**
 * HSM-protected keys (kty RSA-HSM, EC-HSM, oct-HSM) through PKCS#11
 * (DESIGN.md #5): generated inside the token as non-extractable, sensitive
 * token objects, and used there. Arca stores only the handle, a string that is
 * both the CKA_LABEL of the key's objects and (hex after the prefix) their
 * CKA_ID; the public part of an RSA or EC key is read from the token as a JWK.
 *
 * Mechanisms:
 * - RSA: RS* sign CKM_RSA_PKCS over DigestInfo||digest; PS* CKM_RSA_PKCS_PSS
 *   (hashAlg, MGF1 of the same hash, sLen = hash length); RSA1_5 CKM_RSA_PKCS;
 *   RSA-OAEP CKM_RSA_PKCS_OAEP (SHA-1); RSA-OAEP-256 CKM_RSA_PKCS_OAEP
 *   (SHA-256). wrapKey/unwrapKey are encrypt/decrypt of the key bytes.
 *   A token that refuses OAEP with SHA-256 (SoftHSM2 2.6 allows SHA-1 only)
 *   decrypts with CKM_RSA_X_509 inside the token and the OAEP padding is
 *   checked here; encrypting then uses the public key with node:crypto. The
 *   private key stays in the token either way.
 * - EC: ES* CKM_ECDSA over the digest; PKCS#11 signatures are raw r||s.
 * - oct: A*KW CKM_AES_KEY_WRAP (RFC 3394) through C_WrapKey/C_UnwrapKey of a
 *   session-only generic secret holding the caller's key bytes; A*GCM
 *   CKM_AES_GCM (CK_GCM_PARAMS, 96-bit IV, 128-bit tag).
 *
 * Every refusal of input is a BadParameterError; messages never carry key
 * material, plaintext or the PIN.
 */
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  type JsonWebKeyInput,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { BadParameterError, NotFoundError, ServiceUnavailableError } from '#lib/errors.ts';
import type {
  CurveName,
  EncryptionAlgorithm,
  EncryptResult,
  KeyOperations,
  PublicJwk,
  SignatureAlgorithm,
} from '#lib/keys/key-operations.ts';
import {
  ck,
  ckrOf,
  isSignatureInvalid,
  type Pkcs11,
  type Pkcs11Handle,
  type Pkcs11Session,
} from './pkcs11-session.ts';

export type HsmKeyType = 'RSA-HSM' | 'EC-HSM' | 'oct-HSM';

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

export const HSM_RSA_KEY_SIZES: readonly number[] = [2048, 3072, 4096];
export const HSM_AES_KEY_SIZES: readonly number[] = [128, 192, 256];
const RSA_PUBLIC_EXPONENT = 65537;

interface CurveInfo {
  /** DER of the named curve's OID: CKA_EC_PARAMS. */
  readonly params: string;
  /** Bytes of a coordinate, and of each half of r||s. */
  readonly size: number;
}

const CURVES: Readonly<Record<CurveName, CurveInfo>> = {
  'P-256': { params: '06082a8648ce3d030107', size: 32 },
  'P-256K': { params: '06052b8104000a', size: 32 },
  'P-384': { params: '06052b81040022', size: 48 },
  'P-521': { params: '06052b81040023', size: 66 },
};

type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

interface HashInfo {
  readonly length: number;
  readonly ckm: number;
  readonly mgf: number;
  /** DER DigestInfo up to the digest, for RSASSA-PKCS1-v1_5. */
  readonly digestInfo: string;
}

const HASHES: Readonly<Record<HashName, HashInfo>> = {
  sha1: {
    length: 20,
    ckm: ck.CKM_SHA_1,
    mgf: ck.CKG_MGF1_SHA1,
    digestInfo: '3021300906052b0e03021a05000414',
  },
  sha256: {
    length: 32,
    ckm: ck.CKM_SHA256,
    mgf: ck.CKG_MGF1_SHA256,
    digestInfo: '3031300d060960864801650304020105000420',
  },
  sha384: {
    length: 48,
    ckm: ck.CKM_SHA384,
    mgf: ck.CKG_MGF1_SHA384,
    digestInfo: '3041300d060960864801650304020205000430',
  },
  sha512: {
    length: 64,
    ckm: ck.CKM_SHA512,
    mgf: ck.CKG_MGF1_SHA512,
    digestInfo: '3051300d060960864801650304020305000440',
  },
};

type SignatureScheme =
  | { readonly family: 'rsa-pkcs1' | 'rsa-pss'; readonly hash: HashName }
  | { readonly family: 'ecdsa'; readonly curve: CurveName; readonly digestLength: number };

type RsaSignatureScheme = Extract<SignatureScheme, { family: 'rsa-pkcs1' | 'rsa-pss' }>;

const SIGNATURES: Readonly<Record<SignatureAlgorithm, SignatureScheme>> = {
  RS256: { family: 'rsa-pkcs1', hash: 'sha256' },
  RS384: { family: 'rsa-pkcs1', hash: 'sha384' },
  RS512: { family: 'rsa-pkcs1', hash: 'sha512' },
  PS256: { family: 'rsa-pss', hash: 'sha256' },
  PS384: { family: 'rsa-pss', hash: 'sha384' },
  PS512: { family: 'rsa-pss', hash: 'sha512' },
  ES256: { family: 'ecdsa', curve: 'P-256', digestLength: 32 },
  ES256K: { family: 'ecdsa', curve: 'P-256K', digestLength: 32 },
  ES384: { family: 'ecdsa', curve: 'P-384', digestLength: 48 },
  ES512: { family: 'ecdsa', curve: 'P-521', digestLength: 64 },
};

type EncryptionScheme =
  | { readonly family: 'rsa-pkcs1' }
  | { readonly family: 'rsa-oaep'; readonly hash: 'sha1' | 'sha256' }
  | { readonly family: 'aes-kw'; readonly keyBytes: number }
  | { readonly family: 'aes-gcm'; readonly keyBytes: number };

type RsaEncryptionScheme = Extract<EncryptionScheme, { family: 'rsa-pkcs1' | 'rsa-oaep' }>;

const ENCRYPTIONS: Readonly<Record<EncryptionAlgorithm, EncryptionScheme>> = {
  RSA1_5: { family: 'rsa-pkcs1' },
  'RSA-OAEP': { family: 'rsa-oaep', hash: 'sha1' },
  'RSA-OAEP-256': { family: 'rsa-oaep', hash: 'sha256' },
  A128KW: { family: 'aes-kw', keyBytes: 16 },
  A192KW: { family: 'aes-kw', keyBytes: 24 },
  A256KW: { family: 'aes-kw', keyBytes: 32 },
  A128GCM: { family: 'aes-gcm', keyBytes: 16 },
  A192GCM: { family: 'aes-gcm', keyBytes: 24 },
  A256GCM: { family: 'aes-gcm', keyBytes: 32 },
};

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const HANDLE_PATTERN = /^arca-([0-9a-f]{32})$/;
/** What the session remembers when the token refuses CKM_RSA_PKCS_OAEP with SHA-256. */
const LACKS_OAEP_SHA256 = 'CKM_RSA_PKCS_OAEP with SHA-256';

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

interface KeyRefs {
  /** The private key (RSA, EC) or the secret key (AES). */
  readonly key: Pkcs11Handle;
  readonly public?: Pkcs11Handle;
}

/** An HSM key: the operations of KeyOperations, performed inside the token. */
export class HsmKey implements KeyOperations {
  #refs: KeyRefs | undefined;
  #generation: number;

  /** @internal Use Pkcs11KeyStore.open. */
  constructor(
    private readonly session: Pkcs11Session,
    readonly handle: string,
    private readonly id: Buffer,
    readonly kty: HsmKeyType,
    readonly publicJwk: PublicJwk,
    /** Bytes of the RSA modulus, of an EC coordinate, or of the AES key. */
    readonly size: number,
    refs: KeyRefs,
  ) {
    this.#refs = refs;
    this.#generation = session.generation;
  }

  async sign(algorithm: SignatureAlgorithm, digest: Buffer): Promise<Buffer> {
    const scheme = this.#signatureScheme(algorithm, digest);
    return this.#use(`sign with ${algorithm}`, (p, s, refs) => {
      if (scheme.family === 'ecdsa') {
        p.C_SignInit(s, { mechanism: ck.CKM_ECDSA }, refs.key);
        const signature = Buffer.from(p.C_Sign(s, digest, Buffer.alloc(2 * this.size + 16)));
        if (signature.length !== 2 * this.size) {
          throw new ServiceUnavailableError(`The HSM returned an ECDSA signature of an unexpected length.`);
        }
        return signature;
      }
      p.C_SignInit(s, rsaSignatureMechanism(scheme), refs.key);
      return Buffer.from(p.C_Sign(s, rsaSignatureInput(scheme, digest), Buffer.alloc(this.size)));
    });
  }

  async verify(algorithm: SignatureAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean> {
    const scheme = this.#signatureScheme(algorithm, digest);
    const expected = scheme.family === 'ecdsa' ? 2 * this.size : this.size;
    if (signature.length !== expected) return false;
    return this.#use(`verify with ${algorithm}`, (p, s, refs) => {
      const key = refs.public ?? refs.key;
      try {
        if (scheme.family === 'ecdsa') {
          p.C_VerifyInit(s, { mechanism: ck.CKM_ECDSA }, key);
          return p.C_Verify(s, digest, signature);
        }
        p.C_VerifyInit(s, rsaSignatureMechanism(scheme), key);
        return p.C_Verify(s, rsaSignatureInput(scheme, digest), signature);
      } catch (error) {
        if (isSignatureInvalid(error)) return false;
        throw error;
      }
    });
  }

  async encrypt(
    algorithm: EncryptionAlgorithm,
    plaintext: Buffer,
    options: { iv?: Buffer; aad?: Buffer } = {},
  ): Promise<EncryptResult> {
    const scheme = this.#encryptionScheme(algorithm);
    if (scheme.family === 'aes-kw') return { ciphertext: await this.wrapKey(algorithm, plaintext) };
    if (scheme.family === 'aes-gcm') return this.#gcmEncrypt(algorithm, plaintext, options);
    return { ciphertext: await this.#rsaEncrypt(algorithm, scheme, plaintext) };
  }

  async decrypt(
    algorithm: EncryptionAlgorithm,
    ciphertext: Buffer,
    options: { iv?: Buffer; tag?: Buffer; aad?: Buffer } = {},
  ): Promise<Buffer> {
    const scheme = this.#encryptionScheme(algorithm);
    if (scheme.family === 'aes-kw') return this.unwrapKey(algorithm, ciphertext);
    if (scheme.family === 'aes-gcm') return this.#gcmDecrypt(algorithm, ciphertext, options);
    return this.#rsaDecrypt(algorithm, scheme, ciphertext);
  }

  async wrapKey(algorithm: EncryptionAlgorithm, key: Buffer): Promise<Buffer> {
    const scheme = this.#encryptionScheme(algorithm);
    if (scheme.family === 'aes-gcm')
      throw new BadParameterError(`${algorithm} cannot wrap a key; use encrypt`);
    if (scheme.family !== 'aes-kw') return this.#rsaEncrypt(algorithm, scheme, key);
    if (key.length < 16 || key.length % 8 !== 0) {
      throw new BadParameterError(`${algorithm} wraps keys of at least 16 bytes, in multiples of 8`);
    }
    return this.#use(`wrap a key with ${algorithm}`, (p, s, refs) => {
      // The caller's key bytes become a session-only, extractable secret, wrapped by the token's key.
      const transient = p.C_CreateObject(s, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
        { type: ck.CKA_TOKEN, value: false },
        { type: ck.CKA_PRIVATE, value: true },
        { type: ck.CKA_SENSITIVE, value: false },
        { type: ck.CKA_EXTRACTABLE, value: true },
        { type: ck.CKA_VALUE, value: key },
      ]);
      try {
        return Buffer.from(
          p.C_WrapKey(
            s,
            { mechanism: ck.CKM_AES_KEY_WRAP },
            refs.key,
            transient,
            Buffer.alloc(key.length + 16),
          ),
        );
      } finally {
        p.C_DestroyObject(s, transient);
      }
    });
  }

  async unwrapKey(algorithm: EncryptionAlgorithm, wrapped: Buffer): Promise<Buffer> {
    const scheme = this.#encryptionScheme(algorithm);
    if (scheme.family === 'aes-gcm')
      throw new BadParameterError(`${algorithm} cannot unwrap a key; use decrypt`);
    if (scheme.family !== 'aes-kw') return this.#rsaDecrypt(algorithm, scheme, wrapped);
    if (wrapped.length < 24 || wrapped.length % 8 !== 0) {
      throw new BadParameterError(`A key wrapped with ${algorithm} is at least 24 bytes, in multiples of 8`);
    }
    return this.#use(
      `unwrap a key with ${algorithm}`,
      (p, s, refs) => {
        const unwrapped = p.C_UnwrapKey(s, { mechanism: ck.CKM_AES_KEY_WRAP }, refs.key, wrapped, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
          { type: ck.CKA_TOKEN, value: false },
          { type: ck.CKA_PRIVATE, value: true },
          { type: ck.CKA_SENSITIVE, value: false },
          { type: ck.CKA_EXTRACTABLE, value: true },
        ]);
        try {
          return Buffer.from(attribute(p, s, unwrapped, ck.CKA_VALUE));
        } finally {
          p.C_DestroyObject(s, unwrapped);
        }
      },
      // SoftHSM2 answers CKR_GENERAL_ERROR when the RFC 3394 integrity check fails.
      ['CKR_GENERAL_ERROR'],
    );
  }

  async #gcmEncrypt(
    algorithm: EncryptionAlgorithm,
    plaintext: Buffer,
    options: { iv?: Buffer; aad?: Buffer },
  ): Promise<EncryptResult> {
    if (options.iv !== undefined && options.iv.length !== GCM_IV_BYTES) {
      throw new BadParameterError(`The iv for ${algorithm} must be ${GCM_IV_BYTES} bytes`);
    }
    return this.#use(`encrypt with ${algorithm}`, (p, s, refs) => {
      const iv = options.iv ?? Buffer.from(p.C_GenerateRandom(s, Buffer.alloc(GCM_IV_BYTES)));
      p.C_EncryptInit(s, gcmMechanism(iv, options.aad), refs.key);
      const sealed = Buffer.from(
        p.C_Encrypt(s, nonNull(plaintext), Buffer.alloc(plaintext.length + GCM_TAG_BYTES + 16)),
      );
      const split = sealed.length - GCM_TAG_BYTES;
      return { ciphertext: sealed.subarray(0, split), iv, tag: sealed.subarray(split) };
    });
  }

  async #gcmDecrypt(
    algorithm: EncryptionAlgorithm,
    ciphertext: Buffer,
    options: { iv?: Buffer; tag?: Buffer; aad?: Buffer },
  ): Promise<Buffer> {
    const { iv, tag, aad } = options;
    if (iv === undefined || iv.length !== GCM_IV_BYTES) {
      throw new BadParameterError(`${algorithm} needs an iv of ${GCM_IV_BYTES} bytes`);
    }
    if (tag === undefined || tag.length !== GCM_TAG_BYTES) {
      throw new BadParameterError(`${algorithm} needs an authentication tag of ${GCM_TAG_BYTES} bytes`);
    }
    const sealed = Buffer.concat([ciphertext, tag]);
    return this.#use(
      `decrypt with ${algorithm}`,
      (p, s, refs) => {
        p.C_DecryptInit(s, gcmMechanism(iv, aad), refs.key);
        return Buffer.from(p.C_Decrypt(s, sealed, Buffer.alloc(sealed.length + 16)));
      },
      // SoftHSM2 answers CKR_GENERAL_ERROR when the tag does not verify.
      ['CKR_GENERAL_ERROR'],
    );
  }

  async #rsaEncrypt(
    algorithm: EncryptionAlgorithm,
    scheme: RsaEncryptionScheme,
    plaintext: Buffer,
  ): Promise<Buffer> {
    const overhead = scheme.family === 'rsa-pkcs1' ? 11 : 2 * HASHES[scheme.hash].length + 2;
    if (plaintext.length > this.size - overhead) {
      throw new BadParameterError(
        `${algorithm} encrypts at most ${this.size - overhead} bytes with this key`,
      );
    }
    const mechanism = rsaEncryptionMechanism(scheme);
    const encrypted = await this.#use(`encrypt with ${algorithm}`, (p, s, refs) => {
      if (
        scheme.family === 'rsa-oaep' &&
        scheme.hash === 'sha256' &&
        this.session.lacks.has(LACKS_OAEP_SHA256)
      ) {
        return undefined;
      }
      try {
        p.C_EncryptInit(s, mechanism, refs.public ?? refs.key);
      } catch (error) {
        if (scheme.family === 'rsa-oaep' && scheme.hash === 'sha256' && refusesMechanism(error)) {
          this.session.lacks.add(LACKS_OAEP_SHA256);
          return undefined;
        }
        throw error;
      }
      return Buffer.from(p.C_Encrypt(s, nonNull(plaintext), Buffer.alloc(this.size)));
    });
    if (encrypted !== undefined) return encrypted;
    // The token has no OAEP with SHA-256: encrypting needs only the public key.
    return publicEncrypt(
      {
        key: createPublicKey({ key: nodeJwkOf(this.publicJwk), format: 'jwk' }),
        padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
      },
      plaintext,
    );
  }

  async #rsaDecrypt(
    algorithm: EncryptionAlgorithm,
    scheme: RsaEncryptionScheme,
    ciphertext: Buffer,
  ): Promise<Buffer> {
    if (ciphertext.length !== this.size) {
      throw new BadParameterError(`A ciphertext of ${algorithm} is ${this.size} bytes with this key`);
    }
    const mechanism = rsaEncryptionMechanism(scheme);
    return this.#use(
      `decrypt with ${algorithm}`,
      (p, s, refs) => {
        const oaep256 = scheme.family === 'rsa-oaep' && scheme.hash === 'sha256';
        if (!(oaep256 && this.session.lacks.has(LACKS_OAEP_SHA256))) {
          try {
            p.C_DecryptInit(s, mechanism, refs.key);
            return Buffer.from(p.C_Decrypt(s, ciphertext, Buffer.alloc(this.size)));
          } catch (error) {
            if (!(oaep256 && refusesMechanism(error))) throw error;
            this.session.lacks.add(LACKS_OAEP_SHA256);
          }
        }
        // The raw RSA private operation inside the token; the OAEP padding is checked here.
        p.C_DecryptInit(s, { mechanism: ck.CKM_RSA_X_509 }, refs.key);
        const encoded = leftPad(Buffer.from(p.C_Decrypt(s, ciphertext, Buffer.alloc(this.size))), this.size);
        return oaepDecode(encoded, 'sha256', algorithm);
      },
      // SoftHSM2 answers CKR_GENERAL_ERROR when the padding does not check out.
      ['CKR_GENERAL_ERROR'],
    );
  }

  #signatureScheme(algorithm: SignatureAlgorithm, digest: Buffer): SignatureScheme {
    const scheme = Object.hasOwn(SIGNATURES, algorithm) ? SIGNATURES[algorithm] : undefined;
    if (scheme === undefined) throw new BadParameterError('Unknown signature algorithm');
    if (scheme.family === 'ecdsa') {
      if (this.kty !== 'EC-HSM' || this.publicJwk.crv !== scheme.curve) {
        throw new BadParameterError(`${algorithm} needs an EC-HSM key on ${scheme.curve}`);
      }
      if (digest.length !== scheme.digestLength) {
        throw new BadParameterError(`The digest for ${algorithm} must be ${scheme.digestLength} bytes`);
      }
      return scheme;
    }
    if (this.kty !== 'RSA-HSM') throw new BadParameterError(`${algorithm} needs an RSA-HSM key`);
    if (digest.length !== HASHES[scheme.hash].length) {
      throw new BadParameterError(`The digest for ${algorithm} must be ${HASHES[scheme.hash].length} bytes`);
    }
    return scheme;
  }

  #encryptionScheme(algorithm: EncryptionAlgorithm): EncryptionScheme {
    const scheme = Object.hasOwn(ENCRYPTIONS, algorithm) ? ENCRYPTIONS[algorithm] : undefined;
    if (scheme === undefined) throw new BadParameterError('Unknown encryption algorithm');
    if (scheme.family === 'aes-kw' || scheme.family === 'aes-gcm') {
      if (this.kty !== 'oct-HSM' || this.size !== scheme.keyBytes) {
        throw new BadParameterError(`${algorithm} needs an oct-HSM key of ${scheme.keyBytes * 8} bits`);
      }
    } else if (this.kty !== 'RSA-HSM') {
      throw new BadParameterError(`${algorithm} needs an RSA-HSM key`);
    }
    return scheme;
  }

  /**
   * Runs an operation with the key's object handles (found again when the
   * session was reopened, or once when the token says a handle went stale).
   */
  #use<T>(
    operation: string,
    fn: (p: Pkcs11, s: Pkcs11Handle, refs: KeyRefs) => T,
    inputRefused: readonly string[] = [],
  ): Promise<T> {
    return this.session.run(
      (p, s) => {
        let retried = false;
        for (;;) {
          if (this.#refs === undefined || this.#generation !== this.session.generation) {
            this.#refs = findKey(p, s, this.handle, this.id);
            this.#generation = this.session.generation;
          }
          try {
            return fn(p, s, this.#refs);
          } catch (error) {
            const ckr = ckrOf(error);
            if (retried || (ckr !== 'CKR_KEY_HANDLE_INVALID' && ckr !== 'CKR_OBJECT_HANDLE_INVALID'))
              throw error;
            this.#refs = undefined;
            retried = true;
          }
        }
      },
      { operation, inputRefused },
    );
  }
}

function idOf(handle: string): Buffer {
  const match = typeof handle === 'string' ? HANDLE_PATTERN.exec(handle) : null;
  if (!match?.[1]) throw new BadParameterError('Malformed HSM key handle');
  return Buffer.from(match[1], 'hex');
}

function findObjects(
  p: Pkcs11,
  s: Pkcs11Handle,
  template: { type: number; value: unknown }[],
): Pkcs11Handle[] {
  p.C_FindObjectsInit(s, template as Parameters<Pkcs11['C_FindObjectsInit']>[1]);
  try {
    const found: Pkcs11Handle[] = [];
    for (;;) {
      const batch = p.C_FindObjects(s, 16);
      found.push(...batch);
      if (batch.length < 16) return found;
    }
  } finally {
    p.C_FindObjectsFinal(s);
  }
}

function findKey(p: Pkcs11, s: Pkcs11Handle, handle: string, id: Buffer): KeyRefs {
  const byClass = (cls: number) =>
    findObjects(p, s, [
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_CLASS, value: cls },
      { type: ck.CKA_LABEL, value: handle },
      { type: ck.CKA_ID, value: id },
    ])[0];
  const key = byClass(ck.CKO_PRIVATE_KEY) ?? byClass(ck.CKO_SECRET_KEY);
  if (key === undefined) throw new NotFoundError('KeyNotFound', 'The HSM holds no key for this handle');
  const publicKey = byClass(ck.CKO_PUBLIC_KEY);
  return publicKey === undefined ? { key } : { key, public: publicKey };
}

function attribute(p: Pkcs11, s: Pkcs11Handle, object: Pkcs11Handle, type: number): Buffer {
  const value = p.C_GetAttributeValue(s, object, [{ type }])[0]?.value;
  if (!Buffer.isBuffer(value))
    throw new ServiceUnavailableError('The HSM returned no value for an attribute');
  return value;
}

/** A CK_ULONG attribute (native byte order: little endian on the platforms Node runs on). */
function ulong(value: Buffer): number {
  if (value.length >= 8) return Number(value.readBigUInt64LE(0));
  return value.readUInt32LE(0);
}

function keyTypeOf(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle): HsmKeyType {
  const type = ulong(attribute(p, s, key, ck.CKA_KEY_TYPE));
  if (type === ck.CKK_RSA) return 'RSA-HSM';
  if (type === ck.CKK_EC) return 'EC-HSM';
  if (type === ck.CKK_AES) return 'oct-HSM';
  throw new ServiceUnavailableError('The HSM key has a type Arca does not use');
}

function curveOf(params: Buffer): CurveName {
  const hex = params.toString('hex');
  for (const [curve, info] of Object.entries(CURVES) as [CurveName, CurveInfo][]) {
    if (info.params === hex) return curve;
  }
  throw new ServiceUnavailableError('The HSM key is on a curve Arca does not use');
}

function rsaPublicJwk(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle): PublicJwk {
  return {
    kty: 'RSA-HSM',
    n: stripLeadingZeros(attribute(p, s, key, ck.CKA_MODULUS)),
    e: stripLeadingZeros(attribute(p, s, key, ck.CKA_PUBLIC_EXPONENT)),
  };
}

function ecPublicJwk(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle, curve: CurveName): PublicJwk {
  const size = CURVES[curve].size;
  const point = uncompressedPoint(attribute(p, s, key, ck.CKA_EC_POINT), size);
  return { kty: 'EC-HSM', crv: curve, x: point.subarray(1, 1 + size), y: point.subarray(1 + size) };
}

/** CKA_EC_POINT is DER (an OCTET STRING around 04||x||y); a few modules return the bare point. */
function uncompressedPoint(value: Buffer, size: number): Buffer {
  const length = 1 + 2 * size;
  if (value.length === length && value[0] === 0x04) return value;
  if (value[0] === 0x04) {
    let offset = 2;
    let declared = value[1] ?? 0;
    if (declared === 0x81) {
      declared = value[2] ?? 0;
      offset = 3;
    }
    const point = value.subarray(offset);
    if (declared === length && point.length === length && point[0] === 0x04) return point;
  }
  throw new ServiceUnavailableError('The HSM returned an EC point Arca cannot read');
}

function rsaSignatureMechanism(scheme: RsaSignatureScheme) {
  if (scheme.family === 'rsa-pkcs1') return { mechanism: ck.CKM_RSA_PKCS };
  const hash = HASHES[scheme.hash];
  return {
    mechanism: ck.CKM_RSA_PKCS_PSS,
    parameter: { type: ck.CK_PARAMS_RSA_PSS, hashAlg: hash.ckm, mgf: hash.mgf, saltLen: hash.length },
  };
}

function rsaSignatureInput(scheme: RsaSignatureScheme, digest: Buffer) {
  if (scheme.family === 'rsa-pss') return digest;
  return Buffer.concat([Buffer.from(HASHES[scheme.hash].digestInfo, 'hex'), digest]);
}

/** CKZ_DATA_SPECIFIED: the OAEP label is given (here empty). */
const CKZ_DATA_SPECIFIED = 1;

function rsaEncryptionMechanism(scheme: RsaEncryptionScheme) {
  if (scheme.family === 'rsa-pkcs1') return { mechanism: ck.CKM_RSA_PKCS };
  const hash = HASHES[scheme.hash];
  return {
    mechanism: ck.CKM_RSA_PKCS_OAEP,
    parameter: { type: ck.CK_PARAMS_RSA_OAEP, hashAlg: hash.ckm, mgf: hash.mgf, source: CKZ_DATA_SPECIFIED },
  };
}

function gcmMechanism(iv: Buffer, aad: Buffer | undefined) {
  return {
    mechanism: ck.CKM_AES_GCM,
    parameter: {
      type: ck.CK_PARAMS_GCM,
      iv,
      ivBits: iv.length * 8,
      ...(aad !== undefined && aad.length > 0 ? { aad } : {}),
      tagBits: GCM_TAG_BYTES * 8,
    },
  };
}

/** The token refused the mechanism or its parameters at Init (not the data). */
function refusesMechanism(error: unknown): boolean {
  const ckr = ckrOf(error);
  return (
    ckr === 'CKR_ARGUMENTS_BAD' || ckr === 'CKR_MECHANISM_PARAM_INVALID' || ckr === 'CKR_MECHANISM_INVALID'
  );
}

function mgf1(seed: Buffer, length: number, hash: HashName): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, produced = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * EME-OAEP decoding (RFC 8017 7.1.2, empty label) of the output of the raw RSA
 * operation. Every failure is the same error, decided after the whole block
 * was examined, so the answer does not tell which check failed.
 */
function oaepDecode(encoded: Buffer, hash: HashName, algorithm: string): Buffer {
  const hLen = HASHES[hash].length;
  const k = encoded.length;
  const refused = () => new BadParameterError(`The ciphertext could not be decrypted with ${algorithm}`);
  if (k < 2 * hLen + 2) throw refused();
  const maskedSeed = encoded.subarray(1, 1 + hLen);
  const maskedDb = encoded.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(maskedDb, hLen, hash));
  const db = xor(maskedDb, mgf1(seed, k - hLen - 1, hash));
  const labelHash = createHash(hash).digest();

  let bad = encoded[0] ?? 1;
  for (let i = 0; i < hLen; i++) bad |= (db[i] ?? 0) ^ (labelHash[i] ?? 0);
  // Find the 0x01 after the zero padding without leaving the loop early.
  let found = 0;
  let index = 0;
  for (let i = hLen; i < db.length; i++) {
    const byte = db[i] ?? 0;
    const isOne = byte === 1 ? 1 : 0;
    const isZero = byte === 0 ? 1 : 0;
    const first = isOne & (found ^ 1);
    index = first ? i : index;
    // Before the 0x01, anything but 0x00 is bad padding.
    bad |= (found ^ 1) & ((isOne | isZero) ^ 1);
    found |= isOne;
  }
  bad |= found ^ 1;
  if (bad !== 0) throw refused();
  return Buffer.from(db.subarray(index + 1));
}

/**
 * Node may hand a native module a NULL pointer for an empty buffer, which
 * modules refuse (CKR_ARGUMENTS_BAD) without ending the operation; an empty
 * view into a real allocation is a valid pointer with length 0.
 */
function nonNull(bytes: Buffer): Buffer {
  return bytes.length > 0 ? bytes : Buffer.alloc(1).subarray(0, 0);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i));
}

function leftPad(bytes: Buffer, size: number): Buffer {
  if (bytes.length >= size) return bytes;
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

/** The node:crypto JWK of a public key (kty RSA or EC, base64url members). */
export function nodeJwkOf(jwk: PublicJwk): JsonWebKeyInput['key'] {
  const b64 = (value: Buffer | undefined) => value?.toString('base64url');
  if (jwk.kty === 'RSA-HSM' || jwk.kty === 'RSA') return { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) };
  if (jwk.kty === 'EC-HSM' || jwk.kty === 'EC') {
    const crv = jwk.crv === 'P-256K' ? 'secp256k1' : jwk.crv;
    return { kty: 'EC', crv, x: b64(jwk.x), y: b64(jwk.y) };
  }
  throw new BadParameterError('A symmetric key has no public part');
}
