import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { CurveName } from '../key-operations.ts';
import type { EcdsaDigestEngine } from './software-key.ts';

/**
 * ECDSA over a digest the caller already computed (Key Vault's sign takes a
 * digest), with @noble/curves (audited): node:crypto can only hash-then-sign.
 * Signatures are raw r||s, deterministic (RFC 6979). Verification accepts
 * high-S signatures, as other NIST-curve signers produce them.
 */
const CURVES = { 'P-256': p256, 'P-256K': secp256k1, 'P-384': p384, 'P-521': p521 } as const;

const b64url = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');

export const nobleEcdsaEngine: EcdsaDigestEngine = {
  sign(curve: CurveName, privateKey: KeyObject, digest: Buffer): Buffer {
    const d = b64url(privateKey.export({ format: 'jwk' }).d);
    try {
      return Buffer.from(CURVES[curve].sign(digest, d, { prehash: false }));
    } finally {
      d.fill(0);
    }
  },
  verify(curve: CurveName, publicKey: KeyObject, digest: Buffer, signature: Buffer): boolean {
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), b64url(jwk.x), b64url(jwk.y)]);
    try {
      return CURVES[curve].verify(signature, digest, point, { prehash: false, lowS: false });
    } catch {
      return false;
    }
  },
};
