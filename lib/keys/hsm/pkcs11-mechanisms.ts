/**
 * The PKCS#11 side of Arca's algorithms for HSM keys (DESIGN.md #5): the key
 * sizes and curves an HSM key may have, the hashes, the signature and
 * encryption schemes of each JOSE algorithm, and the CK_MECHANISMs (with their
 * parameters) that perform them in the token.
 *
 * Mechanisms:
 * - RSA: RS* sign CKM_RSA_PKCS over DigestInfo||digest; PS* CKM_RSA_PKCS_PSS
 *   (hashAlg, MGF1 of the same hash, sLen = hash length); RSA1_5 encrypt
 *   CKM_RSA_PKCS, decrypt CKM_RSA_X_509 with implicit rejection (hsm-key.ts;
 *   CKM_RSA_PKCS on a token without raw RSA); RSA-OAEP CKM_RSA_PKCS_OAEP (SHA-1); RSA-OAEP-256 CKM_RSA_PKCS_OAEP
 *   (SHA-256). wrapKey/unwrapKey are encrypt/decrypt of the key bytes.
 *   A token that refuses OAEP with SHA-256 (SoftHSM2 2.6 allows SHA-1 only)
 *   decrypts with CKM_RSA_X_509 inside the token and the OAEP padding is
 *   checked in JavaScript (oaep-decode.ts); encrypting then uses the public key
 *   with node:crypto. The private key stays in the token either way.
 * - EC: ES* CKM_ECDSA over the digest; PKCS#11 signatures are raw r||s.
 * - oct: A*KW CKM_AES_KEY_WRAP (RFC 3394) through C_WrapKey/C_UnwrapKey of a
 *   session-only generic secret holding the caller's key bytes; A*GCM
 *   CKM_AES_GCM (CK_GCM_PARAMS, 96-bit IV, 128-bit tag).
 */
import type { CurveName, EncryptionAlgorithm, SignatureAlgorithm } from '#lib/keys/key-operations.ts';
import { ck, ckrOf } from './pkcs11-session.ts';

/** The kty of an HSM key. */
export type HsmKeyType = 'RSA-HSM' | 'EC-HSM' | 'oct-HSM';

export const HSM_RSA_KEY_SIZES: readonly number[] = [2048, 3072, 4096];
export const HSM_AES_KEY_SIZES: readonly number[] = [128, 192, 256];

export interface CurveInfo {
  /** DER of the named curve's OID: CKA_EC_PARAMS. */
  readonly params: string;
  /** Bytes of a coordinate, and of each half of r||s. */
  readonly size: number;
}

export const CURVES: Readonly<Record<CurveName, CurveInfo>> = {
  'P-256': { params: '06082a8648ce3d030107', size: 32 },
  'P-256K': { params: '06052b8104000a', size: 32 },
  'P-384': { params: '06052b81040022', size: 48 },
  'P-521': { params: '06052b81040023', size: 66 },
};

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface HashInfo {
  readonly length: number;
  readonly ckm: number;
  readonly mgf: number;
  /** DER DigestInfo up to the digest, for RSASSA-PKCS1-v1_5. */
  readonly digestInfo: string;
}

export const HASHES: Readonly<Record<HashName, HashInfo>> = {
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

export type SignatureScheme =
  | { readonly family: 'rsa-pkcs1' | 'rsa-pss'; readonly hash: HashName }
  | { readonly family: 'ecdsa'; readonly curve: CurveName; readonly digestLength: number };

export type RsaSignatureScheme = Extract<SignatureScheme, { family: 'rsa-pkcs1' | 'rsa-pss' }>;

export const SIGNATURES: Readonly<Record<SignatureAlgorithm, SignatureScheme>> = {
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

export type EncryptionScheme =
  | { readonly family: 'rsa-pkcs1' }
  | { readonly family: 'rsa-oaep'; readonly hash: 'sha1' | 'sha256' }
  | { readonly family: 'aes-kw'; readonly keyBytes: number }
  | { readonly family: 'aes-gcm'; readonly keyBytes: number };

export type RsaEncryptionScheme = Extract<EncryptionScheme, { family: 'rsa-pkcs1' | 'rsa-oaep' }>;

export const ENCRYPTIONS: Readonly<Record<EncryptionAlgorithm, EncryptionScheme>> = {
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

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export function rsaSignatureMechanism(scheme: RsaSignatureScheme) {
  if (scheme.family === 'rsa-pkcs1') return { mechanism: ck.CKM_RSA_PKCS };
  const hash = HASHES[scheme.hash];
  return {
    mechanism: ck.CKM_RSA_PKCS_PSS,
    parameter: { type: ck.CK_PARAMS_RSA_PSS, hashAlg: hash.ckm, mgf: hash.mgf, saltLen: hash.length },
  };
}

export function rsaSignatureInput(scheme: RsaSignatureScheme, digest: Buffer) {
  if (scheme.family === 'rsa-pss') return digest;
  return Buffer.concat([Buffer.from(HASHES[scheme.hash].digestInfo, 'hex'), digest]);
}

/** CKZ_DATA_SPECIFIED: the OAEP label is given (here empty). */
export const CKZ_DATA_SPECIFIED = 1;

export function rsaEncryptionMechanism(scheme: RsaEncryptionScheme) {
  if (scheme.family === 'rsa-pkcs1') return { mechanism: ck.CKM_RSA_PKCS };
  const hash = HASHES[scheme.hash];
  return {
    mechanism: ck.CKM_RSA_PKCS_OAEP,
    parameter: { type: ck.CK_PARAMS_RSA_OAEP, hashAlg: hash.ckm, mgf: hash.mgf, source: CKZ_DATA_SPECIFIED },
  };
}

export function gcmMechanism(iv: Buffer, aad: Buffer | undefined) {
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
export function refusesMechanism(error: unknown): boolean {
  const ckr = ckrOf(error);
  return (
    ckr === 'CKR_ARGUMENTS_BAD' || ckr === 'CKR_MECHANISM_PARAM_INVALID' || ckr === 'CKR_MECHANISM_INVALID'
  );
}
