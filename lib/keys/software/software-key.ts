/**
 * The KeyOperations of a software key (kty RSA or EC), with node:crypto in the
 * process (DESIGN.md #5). Every refusal of caller input is a BadParameterError;
 * messages name algorithms and sizes, never key material, plaintext or digests.
 *
 * RSA:
 * - RSA-OAEP (SHA-1) and RSA-OAEP-256 (SHA-256; MGF1 uses the same hash, which
 *   is OpenSSL's default once the OAEP digest is set) for encrypt/wrap and
 *   decrypt/unwrap.
 * - RSA1_5 (RSAES-PKCS1-v1_5) for encrypt/wrap and decrypt/unwrap. Decryption
 *   is done with implicit rejection, as OpenSSL >= 3.2 does it, because node
 *   on OpenSSL 3.0 (Node 20 here, Node 22 on Lambda) refuses RSA_PKCS1_PADDING
 *   for private decryption (CVE-2023-46809, the Marvin attack) and an explicit
 *   padding error would be a Bleichenbacher oracle. The raw RSA operation is
 *   node's privateDecrypt with RSA_NO_PADDING (OpenSSL, with blinding); the
 *   padding is checked in pkcs1v15-implicit-rejection.ts, keyed with
 *   SHA-256(I2OSP(d, k)), kept per key. The answers are those of OpenSSL >= 3.2:
 *   a ciphertext of the wrong length (or not below the modulus) is a 400, as
 *   before; a ciphertext of the right length whose padding is invalid is NOT an
 *   error: it decrypts to a synthetic plaintext, deterministic for the key and
 *   the ciphertext. That is on purpose: with no error to observe there is no
 *   padding oracle. Callers detect a wrong key or a corrupted value from what
 *   they decrypted (a MAC, the unwrapped key failing to work), not from an error.
 * - RS256/384/512: RSASSA-PKCS1-v1_5 over the DigestInfo of the given digest.
 * - PS256/384/512: RSASSA-PSS (MGF1 with the same hash, salt length = hash
 *   length); EMSA-PSS (RFC 8017 §9.1) is encoded here and the raw RSA
 *   operation is node's privateEncrypt/publicDecrypt with RSA_NO_PADDING,
 *   because node:crypto has no way to sign a digest that is already computed.
 *
 * EC (ES256 on P-256, ES256K on P-256K, ES384 on P-384, ES512 on P-521): node's
 * crypto on Node 20 always hashes what it signs (crypto.sign(null, …) on an EC
 * key hashes with SHA-256), and has no way to apply ECDSA to a precomputed
 * digest, which is what Key Vault's sign and verify take. ECDSA is not
 * hand-rolled here: an EcdsaDigestEngine (an audited library such as
 * @noble/curves, or node's own once it has one) is passed in; without one,
 * ES* sign and verify are refused with a BadParameterError that says so.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { BadParameterError } from '#lib/errors.ts';
import type {
  CurveName,
  EncryptionAlgorithm,
  EncryptResult,
  KeyOperations,
  PublicJwk,
  SignatureAlgorithm,
} from '#lib/keys/key-operations.ts';
import { mgf1 } from '#lib/keys/mgf1.ts';
import {
  decodePkcs1v15ImplicitRejection,
  privateExponentDigest,
} from '#lib/keys/pkcs1v15-implicit-rejection.ts';
import { CURVES, curveOfOpensslName, publicJwkOf } from '#lib/keys/software/key-generation.ts';

/** The operations a key's key_ops may allow (import and export are not operations on a key version). */
export const KEY_OPERATIONS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] as const;
export type KeyOperationName = (typeof KEY_OPERATIONS)[number];

/**
 * ECDSA applied to a digest that is already computed (no hashing). Signatures
 * are raw r||s, each half the curve's size.
 */
export interface EcdsaDigestEngine {
  sign(curve: CurveName, privateKey: KeyObject, digest: Buffer): Buffer | Promise<Buffer>;
  verify(
    curve: CurveName,
    publicKey: KeyObject,
    digest: Buffer,
    signature: Buffer,
  ): boolean | Promise<boolean>;
}

export interface SoftwareKeyOptions {
  /** Makes ES* sign and verify available; without it they are refused (see the module comment). */
  readonly ecdsa?: EcdsaDigestEngine;
}

type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** DER of DigestInfo up to the digest itself (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<'sha256' | 'sha384' | 'sha512', Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

interface RsaEncryptionScheme {
  readonly padding: number;
  readonly oaepHash?: 'sha1' | 'sha256';
  /** Bytes of padding: the longest plaintext is the modulus size less this. */
  readonly overhead: number;
}

const RSA_ENCRYPTION: Readonly<Record<string, RsaEncryptionScheme>> = {
  RSA1_5: { padding: constants.RSA_PKCS1_PADDING, overhead: 11 },
  'RSA-OAEP': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', overhead: 2 * 20 + 2 },
  'RSA-OAEP-256': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', overhead: 2 * 32 + 2 },
};

type SignatureScheme =
  | { readonly family: 'RS' | 'PS'; readonly hash: 'sha256' | 'sha384' | 'sha512' }
  | { readonly family: 'ES'; readonly hash: 'sha256' | 'sha384' | 'sha512'; readonly curve: CurveName };

const SIGNATURE: Readonly<Record<string, SignatureScheme>> = {
  RS256: { family: 'RS', hash: 'sha256' },
  RS384: { family: 'RS', hash: 'sha384' },
  RS512: { family: 'RS', hash: 'sha512' },
  PS256: { family: 'PS', hash: 'sha256' },
  PS384: { family: 'PS', hash: 'sha384' },
  PS512: { family: 'PS', hash: 'sha512' },
  ES256: { family: 'ES', hash: 'sha256', curve: 'P-256' },
  ES256K: { family: 'ES', hash: 'sha256', curve: 'P-256K' },
  ES384: { family: 'ES', hash: 'sha384', curve: 'P-384' },
  ES512: { family: 'ES', hash: 'sha512', curve: 'P-521' },
};

/** Algorithm names of the Key Vault API that software keys do not serve: named in refusals, unlike unknown strings. */
const OTHER_KNOWN_ALGORITHMS = new Set([
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128KW',
  'A192KW',
  'A256KW',
  'A128CBC',
  'A192CBC',
  'A256CBC',
  'A128CBCPAD',
  'A192CBCPAD',
  'A256CBCPAD',
  'CKM_AES_KEY_WRAP',
  'CKM_AES_KEY_WRAP_PAD',
  'HS256',
  'HS384',
  'HS512',
  'RSNULL',
]);

export class SoftwareKey implements KeyOperations {
  readonly kty: 'RSA' | 'EC';
  /** EC keys only. */
  readonly curve: CurveName | undefined;
  readonly publicJwk: PublicJwk;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #keyOps: ReadonlySet<string>;
  readonly #modulusBits: number;
  readonly #ecdsa: EcdsaDigestEngine | undefined;
  /** RSA only: SHA-256(I2OSP(d, k)), the key of RSA1_5's implicit rejection; made on first use. Never logged. */
  #exponentDigest: Buffer | undefined;

  /**
   * privateKey: an RSA or EC private key (on a Key Vault curve). keyOps: the
   * key's key_ops; names other than the six operations are ignored.
   */
  constructor(privateKey: KeyObject, keyOps: Iterable<string>, options: SoftwareKeyOptions = {}) {
    if (privateKey.type !== 'private') throw new Error('SoftwareKey needs a private key');
    if (privateKey.asymmetricKeyType === 'rsa') {
      this.kty = 'RSA';
      this.curve = undefined;
      this.#modulusBits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
      if (this.#modulusBits < 2048) throw new Error('SoftwareKey needs an RSA modulus of at least 2048 bits');
    } else if (privateKey.asymmetricKeyType === 'ec') {
      const curve = curveOfOpensslName(privateKey.asymmetricKeyDetails?.namedCurve);
      if (curve === undefined) throw new Error('SoftwareKey needs an EC key on a Key Vault curve');
      this.kty = 'EC';
      this.curve = curve;
      this.#modulusBits = 0;
    } else {
      throw new Error('SoftwareKey needs an RSA or EC key');
    }
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.#keyOps = new Set(keyOps);
    this.#ecdsa = options.ecdsa;
    this.publicJwk = publicJwkOf(this.#publicKey);
  }

  /** A key from the PKCS#8 DER that the barrier unsealed. */
  static fromPkcs8(pkcs8: Buffer, keyOps: Iterable<string>, options?: SoftwareKeyOptions): SoftwareKey {
    return new SoftwareKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), keyOps, options);
  }

  /** The key_ops this key allows, of the six operations. */
  get keyOps(): KeyOperationName[] {
    return KEY_OPERATIONS.filter((operation) => this.#keyOps.has(operation));
  }

  async encrypt(algorithm: EncryptionAlgorithm, plaintext: Buffer): Promise<EncryptResult> {
    this.#permit('encrypt');
    const scheme = this.#rsaEncryption(algorithm);
    requireBytes(plaintext, 'value');
    return { ciphertext: this.#rsaEncrypt(algorithm, scheme, plaintext) };
  }

  async decrypt(algorithm: EncryptionAlgorithm, ciphertext: Buffer): Promise<Buffer> {
    this.#permit('decrypt');
    const scheme = this.#rsaEncryption(algorithm);
    requireBytes(ciphertext, 'value');
    return this.#rsaDecrypt(algorithm, scheme, ciphertext);
  }

  async wrapKey(algorithm: EncryptionAlgorithm, key: Buffer): Promise<Buffer> {
    this.#permit('wrapKey');
    const scheme = this.#rsaEncryption(algorithm);
    requireBytes(key, 'value');
    if (key.length === 0) throw new BadParameterError('The key to wrap is empty');
    return this.#rsaEncrypt(algorithm, scheme, key);
  }

  async unwrapKey(algorithm: EncryptionAlgorithm, wrapped: Buffer): Promise<Buffer> {
    this.#permit('unwrapKey');
    const scheme = this.#rsaEncryption(algorithm);
    requireBytes(wrapped, 'value');
    return this.#rsaDecrypt(algorithm, scheme, wrapped);
  }

  async sign(algorithm: SignatureAlgorithm, digest: Buffer): Promise<Buffer> {
    this.#permit('sign');
    const scheme = this.#signatureScheme(algorithm);
    requireDigest(algorithm, scheme, digest);
    switch (scheme.family) {
      case 'RS':
        return privateEncrypt(
          { key: this.#privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([DIGEST_INFO_PREFIX[scheme.hash], digest]),
        );
      case 'PS': {
        const encoded = emsaPssEncode(digest, this.#modulusBits - 1, scheme.hash);
        return privateEncrypt(
          { key: this.#privateKey, padding: constants.RSA_NO_PADDING },
          leftPadTo(encoded, this.#modulusBytes),
        );
      }
      case 'ES': {
        const engine = this.#ecdsaEngine(algorithm, 'sign');
        const signature = await engine.sign(scheme.curve, this.#privateKey, digest);
        if (!Buffer.isBuffer(signature) || signature.length !== 2 * CURVES[scheme.curve].size) {
          throw new Error('The ECDSA engine returned a signature of the wrong shape');
        }
        return signature;
      }
    }
  }

  async verify(algorithm: SignatureAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean> {
    this.#permit('verify');
    const scheme = this.#signatureScheme(algorithm);
    requireDigest(algorithm, scheme, digest);
    requireBytes(signature, 'value');
    const expectedLength = scheme.family === 'ES' ? 2 * CURVES[scheme.curve].size : this.#modulusBytes;
    if (signature.length !== expectedLength) {
      throw new BadParameterError(
        `The signature must be ${expectedLength} bytes for ${algorithm} with this key`,
      );
    }
    if (scheme.family === 'ES') {
      const engine = this.#ecdsaEngine(algorithm, 'verify');
      try {
        return (await engine.verify(scheme.curve, this.#publicKey, digest, signature)) === true;
      } catch {
        return false;
      }
    }
    let recovered: Buffer;
    try {
      recovered = leftPadTo(
        publicDecrypt({ key: this.#publicKey, padding: constants.RSA_NO_PADDING }, signature),
        this.#modulusBytes,
      );
    } catch {
      // A signature at least as large as the modulus: well-formed in length, not a signature of this key.
      return false;
    }
    if (scheme.family === 'RS') {
      return constantTimeEqual(recovered, emsaPkcs1v15Encode(digest, scheme.hash, this.#modulusBytes));
    }
    const emBits = this.#modulusBits - 1;
    const emLength = Math.ceil(emBits / 8);
    if (recovered.subarray(0, this.#modulusBytes - emLength).some((byte) => byte !== 0)) return false;
    return emsaPssVerify(digest, recovered.subarray(this.#modulusBytes - emLength), emBits, scheme.hash);
  }

  get #modulusBytes(): number {
    return Math.ceil(this.#modulusBits / 8);
  }

  #permit(operation: KeyOperationName): void {
    if (!this.#keyOps.has(operation))
      throw new BadParameterError(`Operation ${operation} is not permitted on this key`);
  }

  #rsaEncryption(algorithm: string): RsaEncryptionScheme {
    const scheme =
      typeof algorithm === 'string' && Object.hasOwn(RSA_ENCRYPTION, algorithm)
        ? RSA_ENCRYPTION[algorithm]
        : undefined;
    if (scheme === undefined || this.kty !== 'RSA') throw refusedAlgorithm(algorithm, this.kty);
    return scheme;
  }

  #signatureScheme(algorithm: string): SignatureScheme {
    const scheme =
      typeof algorithm === 'string' && Object.hasOwn(SIGNATURE, algorithm) ? SIGNATURE[algorithm] : undefined;
    if (scheme === undefined) throw refusedAlgorithm(algorithm, this.kty);
    if ((scheme.family === 'ES') !== (this.kty === 'EC')) throw refusedAlgorithm(algorithm, this.kty);
    if (scheme.family === 'ES' && scheme.curve !== this.curve) {
      throw new BadParameterError(
        `Algorithm ${algorithm} needs a ${scheme.curve} key; this key is ${this.curve}`,
      );
    }
    return scheme;
  }

  #ecdsaEngine(algorithm: string, operation: 'sign' | 'verify'): EcdsaDigestEngine {
    if (this.#ecdsa === undefined) {
      throw new BadParameterError(
        `${algorithm} ${operation} is not available for software keys on this server: its runtime cannot apply ECDSA to a precomputed digest`,
      );
    }
    return this.#ecdsa;
  }

  #rsaEncrypt(algorithm: string, scheme: RsaEncryptionScheme, plaintext: Buffer): Buffer {
    const longest = this.#modulusBytes - scheme.overhead;
    if (plaintext.length > longest) {
      throw new BadParameterError(
        `The value is too long for ${algorithm} with a ${this.#modulusBits}-bit key (at most ${longest} bytes)`,
      );
    }
    try {
      return publicEncrypt(
        { key: this.#publicKey, padding: scheme.padding, oaepHash: scheme.oaepHash },
        plaintext,
      );
    } catch {
      throw new BadParameterError(`The value could not be encrypted with ${algorithm}`);
    }
  }

  #rsaDecrypt(algorithm: string, scheme: RsaEncryptionScheme, ciphertext: Buffer): Buffer {
    if (ciphertext.length !== this.#modulusBytes) {
      throw new BadParameterError(`The ciphertext must be ${this.#modulusBytes} bytes for this key`);
    }
    if (scheme.padding === constants.RSA_PKCS1_PADDING) return this.#pkcs1v15Decrypt(algorithm, ciphertext);
    try {
      return privateDecrypt(
        { key: this.#privateKey, padding: scheme.padding, oaepHash: scheme.oaepHash },
        ciphertext,
      );
    } catch {
      // One message for every failure: which check failed is not told.
      throw new BadParameterError(`The ciphertext could not be decrypted with ${algorithm}`);
    }
  }

  /**
   * RSA1_5 with implicit rejection (see the module comment): never an error
   * for bad padding. The raw operation fails only for a ciphertext that is not
   * below the modulus, which anyone can check with the public key.
   */
  #pkcs1v15Decrypt(algorithm: string, ciphertext: Buffer): Buffer {
    let raw: Buffer;
    try {
      raw = privateDecrypt({ key: this.#privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
    } catch {
      throw new BadParameterError(`The ciphertext could not be decrypted with ${algorithm}`);
    }
    const em = leftPadTo(raw, this.#modulusBytes);
    try {
      return decodePkcs1v15ImplicitRejection(em, ciphertext, this.#privateExponentDigest());
    } finally {
      em.fill(0);
      raw.fill(0);
    }
  }

  /** SHA-256(I2OSP(d, k)), from the key's d once, then kept: d is not exported for each decryption. */
  #privateExponentDigest(): Buffer {
    if (this.#exponentDigest === undefined) {
      const { d } = this.#privateKey.export({ format: 'jwk' });
      if (typeof d !== 'string') throw new Error('The RSA key has no private exponent');
      const exponent = Buffer.from(d, 'base64url');
      try {
        this.#exponentDigest = privateExponentDigest(exponent, this.#modulusBytes);
      } finally {
        exponent.fill(0);
      }
    }
    return this.#exponentDigest;
  }
}

function refusedAlgorithm(algorithm: unknown, kty: 'RSA' | 'EC'): BadParameterError {
  const known =
    typeof algorithm === 'string' &&
    (Object.hasOwn(RSA_ENCRYPTION, algorithm) ||
      Object.hasOwn(SIGNATURE, algorithm) ||
      OTHER_KNOWN_ALGORITHMS.has(algorithm));
  return known
    ? new BadParameterError(`Algorithm ${algorithm} is not valid for this operation on an ${kty} key`)
    : new BadParameterError(`Unknown algorithm for this operation on an ${kty} key`);
}

function requireBytes(value: unknown, name: string): asserts value is Buffer {
  if (!Buffer.isBuffer(value)) throw new BadParameterError(`${name} must be bytes`);
}

function requireDigest(
  algorithm: string,
  scheme: SignatureScheme,
  digest: unknown,
): asserts digest is Buffer {
  requireBytes(digest, 'digest');
  const length = HASH_LENGTH[scheme.hash];
  if (digest.length !== length)
    throw new BadParameterError(`The digest must be ${length} bytes for ${algorithm}`);
}

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of a digest: 00 01 FF…FF 00 DigestInfo. */
function emsaPkcs1v15Encode(digest: Buffer, hash: 'sha256' | 'sha384' | 'sha512', size: number): Buffer {
  const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  const encoded = Buffer.alloc(size, 0xff);
  encoded[0] = 0;
  encoded[1] = 1;
  encoded[size - digestInfo.length - 1] = 0;
  digestInfo.copy(encoded, size - digestInfo.length);
  return encoded;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest, salt length = hash length. */
function emsaPssEncode(digest: Buffer, emBits: number, hash: HashName): Buffer {
  const hashLength = HASH_LENGTH[hash];
  const saltLength = hashLength;
  const emLength = Math.ceil(emBits / 8);
  if (emLength < hashLength + saltLength + 2)
    throw new BadParameterError('The key is too small for this algorithm');
  const salt = randomBytes(saltLength);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.alloc(emLength - hashLength - 1);
  db[db.length - saltLength - 1] = 0x01;
  salt.copy(db, db.length - saltLength);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLength - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2), salt length = hash length. */
function emsaPssVerify(digest: Buffer, encoded: Buffer, emBits: number, hash: HashName): boolean {
  const hashLength = HASH_LENGTH[hash];
  const saltLength = hashLength;
  const emLength = Math.ceil(emBits / 8);
  if (encoded.length !== emLength || emLength < hashLength + saltLength + 2) return false;
  if (encoded[emLength - 1] !== 0xbc) return false;
  const maskedDb = encoded.subarray(0, emLength - hashLength - 1);
  const h = encoded.subarray(emLength - hashLength - 1, emLength - 1);
  const topBits = 8 * emLength - emBits;
  if (((maskedDb[0] ?? 0) & ~(0xff >> topBits) & 0xff) !== 0) return false;
  const mask = mgf1(h, maskedDb.length, hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> topBits);
  const separator = emLength - hashLength - saltLength - 2;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return constantTimeEqual(h, expected);
}

function leftPadTo(bytes: Buffer, size: number): Buffer {
  if (bytes.length >= size) return bytes;
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
