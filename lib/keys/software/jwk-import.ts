/**
 * ImportKey for software keys: validates a JWK as Key Vault's ImportKey sends
 * it (base64url members n, e, d, dp, dq, qi, p, q for RSA; crv, x, y, d for
 * EC) and turns it into a private KeyObject. Every malformed or inconsistent
 * input is a BadParameterError that names the member and never quotes it.
 *
 * The RSA consistency checks use BigInt arithmetic on the private values
 * (not constant-time): they run once, at import, in the process that is about
 * to hold the key anyway.
 */
import { createECDH, createPrivateKey, type KeyObject } from 'node:crypto';
import { BadParameterError } from '#lib/errors.ts';
import {
  CURVES,
  isCurveName,
  leftPad,
  materialOf,
  RSA_KEY_SIZES,
  type SoftwareKeyMaterial,
  stripLeadingZeros,
} from '#lib/keys/software/key-generation.ts';

export interface ImportedSoftwareKey extends SoftwareKeyMaterial {
  readonly privateKey: KeyObject;
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Imports the private key of a JWK (kty RSA or EC) as a software key. */
export function importJwk(jwk: unknown): ImportedSoftwareKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new BadParameterError('key must be a JSON web key object');
  }
  const members = jwk as Record<string, unknown>;
  const kty = members.kty;
  if (kty === 'RSA') return importRsa(members);
  if (kty === 'EC') return importEc(members);
  if (kty === 'oct' || kty === 'oct-HSM') {
    throw new BadParameterError(
      'Symmetric (oct) keys are HSM-only: they cannot be imported as software keys',
    );
  }
  if (kty === 'RSA-HSM' || kty === 'EC-HSM') {
    throw new BadParameterError(`A ${kty} key is imported into an HSM, not as a software key`);
  }
  throw new BadParameterError("JWK member 'kty' must be RSA or EC for a software key");
}

function importRsa(members: Record<string, unknown>): ImportedSoftwareKey {
  const n = integerMember(members, 'n');
  const e = integerMember(members, 'e');
  const d = integerMember(members, 'd');
  const p = integerMember(members, 'p');
  const q = integerMember(members, 'q');
  const dp = integerMember(members, 'dp');
  const dq = integerMember(members, 'dq');
  const qi = integerMember(members, 'qi');

  const modulusBits = bitLength(n);
  if (!RSA_KEY_SIZES.includes(modulusBits)) {
    throw new BadParameterError(`JWK member 'n' must be a modulus of ${RSA_KEY_SIZES.join(', ')} bits`);
  }
  const [N, E, D, P, Q, DP, DQ, QI] = [n, e, d, p, q, dp, dq, qi].map(toBigInt) as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  if (E < 3n || E % 2n === 0n || e.length > 8) {
    throw new BadParameterError(
      "JWK member 'e' must be an odd public exponent of at least 3 and at most 64 bits",
    );
  }
  if (P < 2n || Q < 2n || P === Q || P * Q !== N) {
    throw new BadParameterError("JWK members 'p' and 'q' must be the two distinct prime factors of 'n'");
  }
  const lambda = lcm(P - 1n, Q - 1n);
  if (D <= 0n || D >= N || (E * D) % lambda !== 1n) {
    throw new BadParameterError("JWK member 'd' does not match 'n' and 'e'");
  }
  if (DP !== D % (P - 1n)) throw new BadParameterError("JWK member 'dp' does not match 'd' and 'p'");
  if (DQ !== D % (Q - 1n)) throw new BadParameterError("JWK member 'dq' does not match 'd' and 'q'");
  if (QI <= 0n || QI >= P || (QI * Q) % P !== 1n) {
    throw new BadParameterError("JWK member 'qi' does not match 'p' and 'q'");
  }

  const encode = (bytes: Buffer) => bytes.toString('base64url');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'RSA',
        n: encode(n),
        e: encode(e),
        d: encode(d),
        p: encode(p),
        q: encode(q),
        dp: encode(dp),
        dq: encode(dq),
        qi: encode(qi),
      },
    });
  } catch {
    throw new BadParameterError('The JWK is not a valid RSA private key');
  }
  return { ...materialOf(privateKey), privateKey };
}

function importEc(members: Record<string, unknown>): ImportedSoftwareKey {
  const crv = members.crv;
  if (crv === undefined || crv === null)
    throw new BadParameterError("JWK member 'crv' is required for an EC key");
  if (!isCurveName(crv)) {
    throw new BadParameterError(`JWK member 'crv' must be one of ${Object.keys(CURVES).join(', ')}`);
  }
  const { openssl, nodeJwkCrv, size } = CURVES[crv];
  const fixed = (name: string) => {
    const value = integerMember(members, name, name !== 'd');
    if (value.length > size)
      throw new BadParameterError(`JWK member '${name}' is longer than a ${crv} value`);
    return leftPad(value, size);
  };
  const x = fixed('x');
  const y = fixed('y');
  const d = fixed('d');

  let derivedPublic: Buffer;
  try {
    const ecdh = createECDH(openssl);
    ecdh.setPrivateKey(d);
    derivedPublic = ecdh.getPublicKey();
  } catch {
    throw new BadParameterError(`JWK member 'd' is not a valid ${crv} private key`);
  }
  if (!derivedPublic.equals(Buffer.concat([Buffer.from([4]), x, y]))) {
    throw new BadParameterError("JWK members 'x' and 'y' do not match 'd'");
  }

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'EC',
        crv: nodeJwkCrv,
        x: x.toString('base64url'),
        y: y.toString('base64url'),
        d: d.toString('base64url'),
      },
    });
  } catch {
    throw new BadParameterError(`The JWK is not a valid ${crv} private key`);
  }
  return { ...materialOf(privateKey), privateKey };
}

/** A required base64url member holding an unsigned integer (leading zero bytes dropped). */
function integerMember(members: Record<string, unknown>, name: string, zeroAllowed = false): Buffer {
  const value = members[name];
  if (value === undefined || value === null) throw new BadParameterError(`JWK member '${name}' is required`);
  if (typeof value !== 'string')
    throw new BadParameterError(`JWK member '${name}' must be a base64url string`);
  const unpadded = value.replace(/=+$/, '');
  if (!BASE64URL.test(value) || unpadded.length % 4 === 1) {
    throw new BadParameterError(`JWK member '${name}' is not valid base64url`);
  }
  const bytes = stripLeadingZeros(Buffer.from(unpadded, 'base64url'));
  if (bytes.length === 0) throw new BadParameterError(`JWK member '${name}' must not be empty`);
  if (!zeroAllowed && bytes.length === 1 && bytes[0] === 0) {
    throw new BadParameterError(`JWK member '${name}' must not be zero`);
  }
  return bytes;
}

function bitLength(bytes: Buffer): number {
  const first = bytes[0] ?? 0;
  return (bytes.length - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first));
}

function toBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex')}`);
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}
