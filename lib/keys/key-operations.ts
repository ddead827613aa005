/**
 * The keys issue's building blocks (not yet served by any route): one port for
 * the cryptographic operations of a key version, with adapters for software
 * keys (node:crypto, lib/keys/software), HSM keys through PKCS#11
 * (lib/keys/hsm) and AWS KMS asymmetric keys (lib/keys/kms).
 *
 * Inputs and outputs are raw bytes; base64url is the HTTP layer's business.
 * Every refusal of bad input (unknown algorithm, wrong digest length, garbage
 * ciphertext, an operation the key does not allow) is a BadParameterError,
 * never a crash; messages never quote key material or plaintext.
 */
export type KeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM' | 'oct-HSM';
export type CurveName = 'P-256' | 'P-256K' | 'P-384' | 'P-521';

export const ENCRYPTION_ALGORITHMS = [
  'RSA1_5',
  'RSA-OAEP',
  'RSA-OAEP-256',
  'A128KW',
  'A192KW',
  'A256KW',
  'A128GCM',
  'A192GCM',
  'A256GCM',
] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

export const SIGNATURE_ALGORITHMS = [
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES256K',
  'ES384',
  'ES512',
] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** The public part of a key, as a JWK (never a private member). */
export interface PublicJwk {
  readonly kty: KeyType;
  readonly n?: Buffer;
  readonly e?: Buffer;
  readonly crv?: CurveName;
  readonly x?: Buffer;
  readonly y?: Buffer;
}

export interface EncryptResult {
  readonly ciphertext: Buffer;
  /** AES-GCM only. */
  readonly iv?: Buffer;
  readonly tag?: Buffer;
}

/** The operations one key version can perform where it lives. */
export interface KeyOperations {
  encrypt(
    algorithm: EncryptionAlgorithm,
    plaintext: Buffer,
    options?: { iv?: Buffer; aad?: Buffer },
  ): Promise<EncryptResult>;
  decrypt(
    algorithm: EncryptionAlgorithm,
    ciphertext: Buffer,
    options?: { iv?: Buffer; tag?: Buffer; aad?: Buffer },
  ): Promise<Buffer>;
  wrapKey(algorithm: EncryptionAlgorithm, key: Buffer): Promise<Buffer>;
  unwrapKey(algorithm: EncryptionAlgorithm, wrapped: Buffer): Promise<Buffer>;
  /** Signs a digest (its length must match the algorithm's hash). EC signatures are raw r||s. */
  sign(algorithm: SignatureAlgorithm, digest: Buffer): Promise<Buffer>;
  verify(algorithm: SignatureAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean>;
}
