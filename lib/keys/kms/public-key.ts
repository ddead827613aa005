import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CurveName, PublicJwk } from '../key-operations.ts';

/** Curves a KMS key can be on: JWK name ↔ node:crypto's JWK name, and the size of r, s, x, y in bytes. */
export const CURVES: Readonly<Record<CurveName, { nodeCrv: string; size: number }>> = {
  'P-256': { nodeCrv: 'P-256', size: 32 },
  'P-256K': { nodeCrv: 'secp256k1', size: 32 },
  'P-384': { nodeCrv: 'P-384', size: 48 },
  'P-521': { nodeCrv: 'P-521', size: 66 },
};

/**
 * The public key from a SubjectPublicKeyInfo (what KMS GetPublicKey returns)
 * as our PublicJwk, or undefined when it is not an RSA or EC key on a curve
 * we know.
 */
export function publicJwkFromSpki(der: Uint8Array, kty: 'RSA-HSM' | 'EC-HSM'): PublicJwk | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  const jwk = key.export({ format: 'jwk' });
  if (kty === 'RSA-HSM') {
    if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) return undefined;
    return { kty, n: Buffer.from(jwk.n, 'base64url'), e: Buffer.from(jwk.e, 'base64url') };
  }
  const crv = (Object.keys(CURVES) as CurveName[]).find((name) => CURVES[name].nodeCrv === jwk.crv);
  if (jwk.kty !== 'EC' || !crv || !jwk.x || !jwk.y) return undefined;
  return { kty, crv, x: Buffer.from(jwk.x, 'base64url'), y: Buffer.from(jwk.y, 'base64url') };
}

/** A node:crypto public key for a PublicJwk (throws TypeError when the JWK is incomplete or invalid). */
export function keyObjectFromPublicJwk(jwk: PublicJwk): KeyObject {
  const b64 = (value: Buffer | undefined, member: string): string => {
    if (!value || value.length === 0) throw new TypeError(`public JWK lacks ${member}`);
    return value.toString('base64url');
  };
  if (jwk.kty === 'RSA' || jwk.kty === 'RSA-HSM') {
    return createPublicKey({ key: { kty: 'RSA', n: b64(jwk.n, 'n'), e: b64(jwk.e, 'e') }, format: 'jwk' });
  }
  if (jwk.kty === 'EC' || jwk.kty === 'EC-HSM') {
    if (!jwk.crv || !Object.hasOwn(CURVES, jwk.crv)) throw new TypeError('public JWK has no known crv');
    return createPublicKey({
      key: { kty: 'EC', crv: CURVES[jwk.crv].nodeCrv, x: b64(jwk.x, 'x'), y: b64(jwk.y, 'y') },
      format: 'jwk',
    });
  }
  throw new TypeError('public JWK is neither RSA nor EC');
}
