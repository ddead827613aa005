/**
 * An HSM key opened from a PKCS#11 token (Pkcs11KeyStore.open): sign, verify,
 * encrypt, decrypt, wrap and unwrap performed inside the token with the
 * mechanisms of pkcs11-mechanisms.ts. Every refusal of input is a
 * BadParameterError; messages never carry key material or plaintext.
 */
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  type JsonWebKeyInput,
  publicEncrypt,
} from 'node:crypto';
import { BadParameterError, ServiceUnavailableError } from '#lib/errors.ts';
import type {
  EncryptionAlgorithm,
  EncryptResult,
  KeyOperations,
  PublicJwk,
  SignatureAlgorithm,
} from '#lib/keys/key-operations.ts';
import { decodePkcs1v15ImplicitRejection } from '#lib/keys/pkcs1v15-implicit-rejection.ts';
import { nonNull, oaepDecode } from './oaep-decode.ts';
import {
  ENCRYPTIONS,
  type EncryptionScheme,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  gcmMechanism,
  HASHES,
  type HsmKeyType,
  type RsaEncryptionScheme,
  refusesMechanism,
  rsaEncryptionMechanism,
  rsaSignatureInput,
  rsaSignatureMechanism,
  SIGNATURES,
  type SignatureScheme,
} from './pkcs11-mechanisms.ts';
import { attribute, findKey, type KeyRefs, leftPad } from './pkcs11-objects.ts';
import {
  ck,
  ckrOf,
  isSignatureInvalid,
  type Pkcs11,
  type Pkcs11Handle,
  type Pkcs11Session,
} from './pkcs11-session.ts';

/**
 * The caller's key bytes inside the token while its AES key wraps or unwraps
 * them: a generic secret of this session only, extractable, destroyed after.
 */
const TRANSIENT_SECRET = [
  { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
  { type: ck.CKA_TOKEN, value: false },
  { type: ck.CKA_PRIVATE, value: true },
  { type: ck.CKA_SENSITIVE, value: false },
  { type: ck.CKA_EXTRACTABLE, value: true },
];

/** What the session remembers when the token refuses CKM_RSA_PKCS_OAEP with SHA-256. */
const LACKS_OAEP_SHA256 = 'CKM_RSA_PKCS_OAEP with SHA-256';
const LACKS_RSA_X_509 = 'CKM_RSA_X_509';

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
      const transient = p.C_CreateObject(s, [...TRANSIENT_SECRET, { type: ck.CKA_VALUE, value: key }]);
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
        const unwrapped = p.C_UnwrapKey(
          s,
          { mechanism: ck.CKM_AES_KEY_WRAP },
          refs.key,
          wrapped,
          TRANSIENT_SECRET,
        );
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
    if (scheme.family === 'rsa-pkcs1') return this.#pkcs1v15Decrypt(algorithm, ciphertext);
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

  /**
   * RSA1_5 with implicit rejection, as software keys do it
   * (pkcs1v15-implicit-rejection.ts): an invalid padding yields a synthetic
   * plaintext, deterministic for the key and the ciphertext, never an error,
   * so there is no padding oracle. A token's own CKM_RSA_PKCS would answer a
   * bad padding with an error, which is that oracle.
   *
   * The raw RSA operation (CKM_RSA_X_509) is the token's. The key from which
   * the synthetic message is derived must be secret, bound to the key and
   * fixed: the draft takes SHA-256(d), which never leaves the token, so here
   * it is SHA-256 of the token's RSASSA-PKCS1-v1_5 signature (deterministic,
   * and made only with d) over SHA-256 of the ciphertext. Both private
   * operations run for every ciphertext, valid or not. A token without
   * CKM_RSA_X_509 falls back to CKM_RSA_PKCS, and then a bad padding is a 400.
   */
  #pkcs1v15Decrypt(algorithm: EncryptionAlgorithm, ciphertext: Buffer): Promise<Buffer> {
    return this.#use(
      `decrypt with ${algorithm}`,
      (p, s, refs) => {
        if (!this.session.lacks.has(LACKS_RSA_X_509)) {
          try {
            const derivation = { family: 'rsa-pkcs1', hash: 'sha256' } as const;
            p.C_SignInit(s, rsaSignatureMechanism(derivation), refs.key);
            const digest = createHash('sha256').update(ciphertext).digest();
            const signature = Buffer.from(
              p.C_Sign(s, rsaSignatureInput(derivation, digest), Buffer.alloc(this.size)),
            );
            const derivationKey = createHash('sha256').update(signature).digest();
            signature.fill(0);
            p.C_DecryptInit(s, { mechanism: ck.CKM_RSA_X_509 }, refs.key);
            const raw = Buffer.from(p.C_Decrypt(s, ciphertext, Buffer.alloc(this.size)));
            const encoded = leftPad(raw, this.size);
            try {
              return decodePkcs1v15ImplicitRejection(encoded, ciphertext, derivationKey);
            } finally {
              raw.fill(0);
              encoded.fill(0);
              derivationKey.fill(0);
            }
          } catch (error) {
            if (ckrOf(error) !== 'CKR_MECHANISM_INVALID') throw error;
            this.session.lacks.add(LACKS_RSA_X_509);
          }
        }
        p.C_DecryptInit(s, rsaEncryptionMechanism({ family: 'rsa-pkcs1' }), refs.key);
        return Buffer.from(p.C_Decrypt(s, ciphertext, Buffer.alloc(this.size)));
      },
      // SoftHSM2 answers CKR_GENERAL_ERROR when the padding does not check out (the fallback only).
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
