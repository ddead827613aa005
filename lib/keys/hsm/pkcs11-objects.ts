/**
 * Finding and reading the token objects of an HSM key: the handle Arca stores
 * is both the CKA_LABEL of the key's objects and (hex after the prefix) their
 * CKA_ID; the public part of an RSA or EC key is read from the token as a JWK.
 */
import { randomBytes } from 'node:crypto';
import { BadParameterError, NotFoundError, ServiceUnavailableError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';
import { CURVES, type CurveInfo, type HsmKeyType } from './pkcs11-mechanisms.ts';
import { ck, type Pkcs11, type Pkcs11Handle } from './pkcs11-session.ts';

const HANDLE_PATTERN = /^arca-([0-9a-f]{32})$/;

export interface KeyRefs {
  /** The private key (RSA, EC) or the secret key (AES). */
  readonly key: Pkcs11Handle;
  readonly public?: Pkcs11Handle;
}

/** A fresh handle for a new key's objects, and its CKA_ID. */
export function newHandle(): { handle: string; id: Buffer } {
  const id = randomBytes(16);
  return { handle: `arca-${id.toString('hex')}`, id };
}

export function idOf(handle: string): Buffer {
  const match = typeof handle === 'string' ? HANDLE_PATTERN.exec(handle) : null;
  if (!match?.[1]) throw new BadParameterError('Malformed HSM key handle');
  return Buffer.from(match[1], 'hex');
}

export function findObjects(
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

export function findKey(p: Pkcs11, s: Pkcs11Handle, handle: string, id: Buffer): KeyRefs {
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

export function attribute(p: Pkcs11, s: Pkcs11Handle, object: Pkcs11Handle, type: number): Buffer {
  const value = p.C_GetAttributeValue(s, object, [{ type }])[0]?.value;
  if (!Buffer.isBuffer(value))
    throw new ServiceUnavailableError('The HSM returned no value for an attribute');
  return value;
}

/** A CK_ULONG attribute (native byte order: little endian on the platforms Node runs on). */
export function ulong(value: Buffer): number {
  if (value.length >= 8) return Number(value.readBigUInt64LE(0));
  return value.readUInt32LE(0);
}

export function keyTypeOf(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle): HsmKeyType {
  const type = ulong(attribute(p, s, key, ck.CKA_KEY_TYPE));
  if (type === ck.CKK_RSA) return 'RSA-HSM';
  if (type === ck.CKK_EC) return 'EC-HSM';
  if (type === ck.CKK_AES) return 'oct-HSM';
  throw new ServiceUnavailableError('The HSM key has a type Arca does not use');
}

export function curveOf(params: Buffer): CurveName {
  const hex = params.toString('hex');
  for (const [curve, info] of Object.entries(CURVES) as [CurveName, CurveInfo][]) {
    if (info.params === hex) return curve;
  }
  throw new ServiceUnavailableError('The HSM key is on a curve Arca does not use');
}

export function rsaPublicJwk(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle): PublicJwk {
  return {
    kty: 'RSA-HSM',
    n: stripLeadingZeros(attribute(p, s, key, ck.CKA_MODULUS)),
    e: stripLeadingZeros(attribute(p, s, key, ck.CKA_PUBLIC_EXPONENT)),
  };
}

export function ecPublicJwk(p: Pkcs11, s: Pkcs11Handle, key: Pkcs11Handle, curve: CurveName): PublicJwk {
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

function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i));
}

export function leftPad(bytes: Buffer, size: number): Buffer {
  if (bytes.length >= size) return bytes;
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}
