import { constants, type KeyObject, publicEncrypt } from 'node:crypto';
import {
  DecryptCommand,
  type EncryptionAlgorithmSpec,
  type KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { BadParameterError, ServiceUnavailableError } from '#lib/errors.ts';
import {
  type CurveName,
  ENCRYPTION_ALGORITHMS,
  type EncryptionAlgorithm,
  type EncryptResult,
  type KeyOperations,
  type PublicJwk,
  type SignatureAlgorithm,
} from '../key-operations.ts';
import { derToRawEcdsa, rawToDerEcdsa } from './ecdsa-signature.ts';
import { callKms, kmsErrorName, translateKmsError } from './kms-errors.ts';
import type { KmsKeyUsage } from './kms-key-factory.ts';
import { CURVES, keyObjectFromPublicJwk } from './public-key.ts';

/** What Arca keeps about one KMS-backed key version. */
export interface KmsKeyReference {
  /** The KMS key's ARN. */
  readonly keyId: string;
  readonly publicJwk: PublicJwk;
  readonly keyUsage: KmsKeyUsage;
}

interface SigningSpec {
  readonly kms: SigningAlgorithmSpec;
  readonly digestLength: number;
  /** EC algorithms name their curve; RSA ones have none. */
  readonly crv?: CurveName;
}

/**
 * Key Vault signature algorithms → KMS signing algorithms. KMS's PSS uses a
 * salt as long as the hash, as Key Vault's PS256/384/512 do. ES256K is KMS's
 * ECDSA_SHA_256 on an ECC_SECG_P256K1 key.
 */
const SIGNING: Readonly<Record<SignatureAlgorithm, SigningSpec>> = {
  RS256: { kms: 'RSASSA_PKCS1_V1_5_SHA_256', digestLength: 32 },
  RS384: { kms: 'RSASSA_PKCS1_V1_5_SHA_384', digestLength: 48 },
  RS512: { kms: 'RSASSA_PKCS1_V1_5_SHA_512', digestLength: 64 },
  PS256: { kms: 'RSASSA_PSS_SHA_256', digestLength: 32 },
  PS384: { kms: 'RSASSA_PSS_SHA_384', digestLength: 48 },
  PS512: { kms: 'RSASSA_PSS_SHA_512', digestLength: 64 },
  ES256: { kms: 'ECDSA_SHA_256', digestLength: 32, crv: 'P-256' },
  ES256K: { kms: 'ECDSA_SHA_256', digestLength: 32, crv: 'P-256K' },
  ES384: { kms: 'ECDSA_SHA_384', digestLength: 48, crv: 'P-384' },
  ES512: { kms: 'ECDSA_SHA_512', digestLength: 64, crv: 'P-521' },
};

/** RSA-OAEP as KMS does it: MGF1 with the OAEP hash, empty label (as node:crypto and Key Vault do too). */
const OAEP: Readonly<
  Partial<Record<EncryptionAlgorithm, { kms: EncryptionAlgorithmSpec; hash: string; hashLength: number }>>
> = {
  'RSA-OAEP': { kms: 'RSAES_OAEP_SHA_1', hash: 'sha1', hashLength: 20 },
  'RSA-OAEP-256': { kms: 'RSAES_OAEP_SHA_256', hash: 'sha256', hashLength: 32 },
};

const KNOWN_ENCRYPTION: ReadonlySet<string> = new Set(ENCRYPTION_ALGORITHMS);

/**
 * One HSM-protected key version held as an AWS KMS asymmetric key. Private
 * operations (sign, decrypt, unwrapKey) and verify go to KMS, so the private
 * key never leaves it and each use is in CloudTrail; encrypt and wrapKey use
 * the public key locally (see encrypt). Every refusal of bad input happens
 * before any KMS call.
 */
export class KmsKey implements KeyOperations {
  readonly keyId: string;
  readonly keyUsage: KmsKeyUsage;
  private readonly publicKey: KeyObject;
  private readonly family: 'RSA' | 'EC';
  private readonly crv: CurveName | undefined;
  /** RSA: modulus size in bytes (the length of signatures and ciphertexts). */
  private readonly modulusBytes: number;

  constructor(
    private readonly client: Pick<KMSClient, 'send'>,
    reference: KmsKeyReference,
  ) {
    this.keyId = reference.keyId;
    this.keyUsage = reference.keyUsage;
    this.publicKey = keyObjectFromPublicJwk(reference.publicJwk);
    this.family = this.publicKey.asymmetricKeyType === 'rsa' ? 'RSA' : 'EC';
    this.crv = this.family === 'EC' ? reference.publicJwk.crv : undefined;
    this.modulusBytes = Math.ceil((this.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (this.family === 'EC' && this.keyUsage !== 'SIGN_VERIFY') {
      throw new TypeError('an EC key in KMS can only be a SIGN_VERIFY key');
    }
  }

  async sign(algorithm: SignatureAlgorithm, digest: Buffer): Promise<Buffer> {
    const spec = this.signingSpec(algorithm, 'sign', digest);
    const out = await callKms(() =>
      this.client.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: spec.kms,
        }),
      ),
    );
    if (!out.Signature) throw new ServiceUnavailableError('The key service returned no signature.');
    if (!spec.crv) return Buffer.from(out.Signature);
    const raw = derToRawEcdsa(out.Signature, CURVES[spec.crv].size);
    if (!raw) throw new ServiceUnavailableError('The key service returned a malformed signature.');
    return raw;
  }

  async verify(algorithm: SignatureAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean> {
    const spec = this.signingSpec(algorithm, 'verify', digest);
    // A signature of the wrong length cannot be valid; KMS would reject it as a malformed request.
    let kmsSignature: Buffer;
    if (spec.crv) {
      const size = CURVES[spec.crv].size;
      if (signature.length !== 2 * size) return false;
      kmsSignature = rawToDerEcdsa(signature, size);
    } else {
      if (signature.length !== this.modulusBytes) return false;
      kmsSignature = signature;
    }
    try {
      const out = await this.client.send(
        new VerifyCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          Signature: kmsSignature,
          SigningAlgorithm: spec.kms,
        }),
      );
      return out.SignatureValid === true;
    } catch (error) {
      // KMS answers a signature that does not verify with this exception, not SignatureValid: false.
      if (kmsErrorName(error) === 'KMSInvalidSignatureException') return false;
      throw translateKmsError(error);
    }
  }

  /**
   * Encrypts locally with the public key: RSA-OAEP needs no secret, so no KMS
   * call is needed (saving a round trip and request quota), and the result is
   * the same as KMS Encrypt's: RSAES-OAEP with the same hash for OAEP and
   * MGF1 and an empty label, under the same public key, decryptable only by
   * KMS Decrypt. Plaintext limits are KMS's (modulus − 2·hash − 2 bytes).
   */
  async encrypt(
    algorithm: EncryptionAlgorithm,
    plaintext: Buffer,
    options?: { iv?: Buffer; aad?: Buffer },
  ): Promise<EncryptResult> {
    const oaep = this.oaepSpec(algorithm, 'encrypt', options);
    const max = this.modulusBytes - 2 * oaep.hashLength - 2;
    if (plaintext.length === 0 || plaintext.length > max) {
      throw new BadParameterError(`plaintext must be 1 to ${max} bytes for ${algorithm} with this key.`);
    }
    const ciphertext = publicEncrypt(
      { key: this.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaep.hash },
      plaintext,
    );
    return { ciphertext };
  }

  async decrypt(
    algorithm: EncryptionAlgorithm,
    ciphertext: Buffer,
    options?: { iv?: Buffer; tag?: Buffer; aad?: Buffer },
  ): Promise<Buffer> {
    const oaep = this.oaepSpec(algorithm, 'decrypt', options);
    if (ciphertext.length !== this.modulusBytes) {
      throw new BadParameterError('ciphertext does not decrypt under this key');
    }
    const out = await callKms(() =>
      this.client.send(
        new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: oaep.kms }),
      ),
    );
    if (!out.Plaintext) throw new ServiceUnavailableError('The key service returned no plaintext.');
    return Buffer.from(out.Plaintext);
  }

  /** Wrapping a key is encrypting its bytes under this key (RSA-OAEP or RSA-OAEP-256). */
  async wrapKey(algorithm: EncryptionAlgorithm, key: Buffer): Promise<Buffer> {
    this.requireUsage('ENCRYPT_DECRYPT', 'wrapKey');
    return (await this.encrypt(algorithm, key)).ciphertext;
  }

  async unwrapKey(algorithm: EncryptionAlgorithm, wrapped: Buffer): Promise<Buffer> {
    this.requireUsage('ENCRYPT_DECRYPT', 'unwrapKey');
    return this.decrypt(algorithm, wrapped);
  }

  private signingSpec(algorithm: SignatureAlgorithm, operation: string, digest: Buffer): SigningSpec {
    this.requireUsage('SIGN_VERIFY', operation);
    if (!Object.hasOwn(SIGNING, algorithm)) throw new BadParameterError('Unknown signature algorithm.');
    const spec = SIGNING[algorithm];
    if (spec.crv ? spec.crv !== this.crv : this.family !== 'RSA') {
      throw new BadParameterError(`Algorithm ${algorithm} does not apply to this key (${this.describe()}).`);
    }
    if (digest.length !== spec.digestLength) {
      throw new BadParameterError(`The digest for ${algorithm} must be ${spec.digestLength} bytes.`);
    }
    return spec;
  }

  private oaepSpec(
    algorithm: EncryptionAlgorithm,
    operation: string,
    options: { iv?: Buffer; tag?: Buffer; aad?: Buffer } | undefined,
  ): { kms: EncryptionAlgorithmSpec; hash: string; hashLength: number } {
    this.requireUsage('ENCRYPT_DECRYPT', operation);
    if (algorithm === 'RSA1_5') {
      throw new BadParameterError(
        'RSA1_5 is not offered by AWS KMS, which holds this key; use RSA-OAEP or RSA-OAEP-256.',
      );
    }
    const spec = Object.hasOwn(OAEP, algorithm) ? OAEP[algorithm] : undefined;
    if (!spec) {
      // Name the algorithm only when it is one of ours (never echo arbitrary input).
      const named = KNOWN_ENCRYPTION.has(algorithm) ? `Algorithm ${algorithm}` : 'This algorithm';
      throw new BadParameterError(
        `${named} does not apply to this key (${this.describe()}); use RSA-OAEP or RSA-OAEP-256.`,
      );
    }
    if (options?.iv || options?.tag || options?.aad) {
      throw new BadParameterError('iv, tag and aad apply to AES-GCM only.');
    }
    return spec;
  }

  private requireUsage(usage: KmsKeyUsage, operation: string): void {
    if (this.keyUsage !== usage) {
      throw new BadParameterError(
        `Operation ${operation} is not allowed on this key: its AWS KMS key usage is ${this.keyUsage}.`,
      );
    }
  }

  private describe(): string {
    return this.family === 'RSA' ? `RSA ${this.modulusBytes * 8}` : `EC ${this.crv}`;
  }
}
