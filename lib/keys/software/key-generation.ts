/**
 * Software keys (kty RSA and EC) are made here with node:crypto. The private
 * key leaves as PKCS#8 DER, to be sealed by the barrier (DESIGN.md #4) and
 * never logged; the public part leaves as a PublicJwk.
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { BadParameterError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export type SoftwareKeyType = 'RSA' | 'EC';

export const RSA_KEY_SIZES: readonly number[] = [2048, 3072, 4096];
export const DEFAULT_RSA_KEY_SIZE = 2048;
export const RSA_PUBLIC_EXPONENT = 65537;
export const DEFAULT_CURVE: CurveName = 'P-256';

interface CurveInfo {
  /** OpenSSL's name, as node:crypto reports it in asymmetricKeyDetails.namedCurve. */
  readonly openssl: string;
  /** The crv node:crypto uses in JWKs (secp256k1 where Key Vault says P-256K). */
  readonly nodeJwkCrv: string;
  /** Bytes in a coordinate, in the private scalar and in each half of an r||s signature. */
  readonly size: number;
}

export const CURVES: Readonly<Record<CurveName, CurveInfo>> = {
  'P-256': { openssl: 'prime256v1', nodeJwkCrv: 'P-256', size: 32 },
  'P-256K': { openssl: 'secp256k1', nodeJwkCrv: 'secp256k1', size: 32 },
  'P-384': { openssl: 'secp384r1', nodeJwkCrv: 'P-384', size: 48 },
  'P-521': { openssl: 'secp521r1', nodeJwkCrv: 'P-521', size: 66 },
};

export function isCurveName(value: unknown): value is CurveName {
  return typeof value === 'string' && Object.hasOwn(CURVES, value);
}

/** The JWK curve name of an OpenSSL curve name, or undefined for a curve Key Vault does not have. */
export function curveOfOpensslName(name: string | undefined): CurveName | undefined {
  for (const [curve, info] of Object.entries(CURVES) as [CurveName, CurveInfo][]) {
    if (info.openssl === name) return curve;
  }
  return undefined;
}

/** A new software key: the private part for the barrier, the public part for the key bundle. */
export interface SoftwareKeyMaterial {
  readonly kty: SoftwareKeyType;
  /** PKCS#8 DER of the private key: seal it, never log it. */
  readonly pkcs8: Buffer;
  readonly publicJwk: PublicJwk;
}

export type GenerateKeyParameters =
  | { readonly kty: 'RSA'; readonly keySize?: number; readonly publicExponent?: number }
  | { readonly kty: 'EC'; readonly curve?: string };

/** Generates a software key as CreateKey asks for it (kty RSA: key_size, public_exponent; kty EC: crv). */
export async function generateSoftwareKey(parameters: GenerateKeyParameters): Promise<SoftwareKeyMaterial> {
  if (parameters.kty === 'RSA') {
    const size = parameters.keySize ?? DEFAULT_RSA_KEY_SIZE;
    if (!RSA_KEY_SIZES.includes(size)) {
      throw new BadParameterError(`key_size must be one of ${RSA_KEY_SIZES.join(', ')} for an RSA key`);
    }
    if (parameters.publicExponent !== undefined && parameters.publicExponent !== RSA_PUBLIC_EXPONENT) {
      throw new BadParameterError(`public_exponent must be ${RSA_PUBLIC_EXPONENT}`);
    }
    return generateRsaKey(size);
  }
  if (parameters.kty === 'EC') {
    const curve = parameters.curve ?? DEFAULT_CURVE;
    if (!isCurveName(curve)) {
      throw new BadParameterError(`crv must be one of ${Object.keys(CURVES).join(', ')} for an EC key`);
    }
    return generateEcKey(curve);
  }
  throw new BadParameterError('kty must be RSA or EC for a software key');
}

export async function generateRsaKey(modulusLength: number): Promise<SoftwareKeyMaterial> {
  if (!RSA_KEY_SIZES.includes(modulusLength)) {
    throw new BadParameterError(`key_size must be one of ${RSA_KEY_SIZES.join(', ')} for an RSA key`);
  }
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength,
    publicExponent: RSA_PUBLIC_EXPONENT,
  });
  return materialOf(privateKey);
}

export async function generateEcKey(curve: CurveName): Promise<SoftwareKeyMaterial> {
  if (!isCurveName(curve)) {
    throw new BadParameterError(`crv must be one of ${Object.keys(CURVES).join(', ')} for an EC key`);
  }
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: CURVES[curve].openssl });
  return materialOf(privateKey);
}

/** The material of a private KeyObject (generated, or imported from a JWK). */
export function materialOf(privateKey: KeyObject): SoftwareKeyMaterial {
  const publicJwk = publicJwkOf(privateKey);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { kty: publicJwk.kty as SoftwareKeyType, pkcs8, publicJwk };
}

/** Opens the PKCS#8 DER of a software key (once the barrier has unsealed it). */
export function privateKeyFromPkcs8(pkcs8: Buffer): KeyObject {
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/**
 * The public JWK of an RSA or EC key (private or public KeyObject): n, e for
 * RSA; crv, x, y for EC, with x and y left-padded to the curve's size. Never a
 * private member.
 */
export function publicJwkOf(key: KeyObject): PublicJwk {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'rsa') {
    return {
      kty: 'RSA',
      n: stripLeadingZeros(Buffer.from(requireMember(jwk.n), 'base64url')),
      e: stripLeadingZeros(Buffer.from(requireMember(jwk.e), 'base64url')),
    };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = curveOfOpensslName(key.asymmetricKeyDetails?.namedCurve);
    if (curve === undefined) throw new Error('EC key on a curve that software keys do not support');
    const size = CURVES[curve].size;
    return {
      kty: 'EC',
      crv: curve,
      x: leftPad(Buffer.from(requireMember(jwk.x), 'base64url'), size),
      y: leftPad(Buffer.from(requireMember(jwk.y), 'base64url'), size),
    };
  }
  throw new Error('Only RSA and EC keys are software keys');
}

function requireMember(value: string | undefined): string {
  if (value === undefined) throw new Error('node:crypto exported a JWK without a public member');
  return value;
}

export function leftPad(bytes: Buffer, size: number): Buffer {
  if (bytes.length > size) throw new Error('value longer than its field');
  if (bytes.length === size) return bytes;
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

export function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return i === 0 ? bytes : bytes.subarray(i);
}
