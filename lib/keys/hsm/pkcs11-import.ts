/**
 * The token objects of Arca's HSM keys: the attribute templates that
 * Pkcs11KeyStore.generateKey and Pkcs11KeyStore.importKey share (label, id,
 * protection, usage), and the C_CreateObject templates of a key imported from
 * a JWK (ImportKey with Hsm: true, or a kty RSA-HSM, EC-HSM, oct-HSM).
 *
 * An imported RSA or EC key is validated by the software import
 * (jwk-import.ts: RSA and EC consistency), then its components are read from
 * the resulting KeyObject; an oct key's `k` must be 128, 192 or 256 bits.
 * Every refusal is a BadParameterError naming the member, never quoting it.
 * The buffers holding private components are zeroed by `wipe()` once the
 * objects are made.
 */
import { BadParameterError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';
import { importJwk } from '#lib/keys/software/jwk-import.ts';
import { CURVES, HSM_AES_KEY_SIZES, HSM_RSA_KEY_SIZES, type HsmKeyType } from './pkcs11-mechanisms.ts';
import { leftPad } from './pkcs11-objects.ts';
import { ck, type Pkcs11 } from './pkcs11-session.ts';

export type Template = Parameters<Pkcs11['C_CreateObject']>[1];

/**
 * The attributes every object of a key carries, and the protection of its
 * private (or secret) object: sensitive, and CKA_WRAP_WITH_TRUSTED. It is
 * extractable only where the deployment backs HSM keys up (`backup`): then
 * the token lets it out only wrapped under a trusted key (CKA_TRUSTED, which
 * only the token's security officer sets), the deployment's backup key.
 */
export function keyObjectTemplates(
  handle: string,
  id: Buffer,
  backup = false,
): { privateKey: Template; publicKey: Template } {
  const common: Template = [
    { type: ck.CKA_TOKEN, value: true },
    { type: ck.CKA_ID, value: id },
    { type: ck.CKA_LABEL, value: handle },
  ];
  return {
    privateKey: [
      ...common,
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: backup },
      { type: ck.CKA_WRAP_WITH_TRUSTED, value: true },
      { type: ck.CKA_DERIVE, value: false },
    ],
    publicKey: [...common, { type: ck.CKA_PRIVATE, value: false }],
  };
}

/** Usage flags of each object, the same for generated and imported keys. */
export const RSA_PUBLIC_USAGE: Template = [
  { type: ck.CKA_VERIFY, value: true },
  { type: ck.CKA_ENCRYPT, value: true },
  { type: ck.CKA_WRAP, value: false },
];
export const RSA_PRIVATE_USAGE: Template = [
  { type: ck.CKA_SIGN, value: true },
  { type: ck.CKA_DECRYPT, value: true },
  { type: ck.CKA_UNWRAP, value: false },
];
export const EC_PUBLIC_USAGE: Template = [{ type: ck.CKA_VERIFY, value: true }];
export const EC_PRIVATE_USAGE: Template = [{ type: ck.CKA_SIGN, value: true }];
/** Class, type and usage of an AES secret key (no CKA_VALUE_LEN: C_CreateObject takes it from CKA_VALUE). */
export const AES_SECRET_KEY: Template = [
  { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
  { type: ck.CKA_ENCRYPT, value: true },
  { type: ck.CKA_DECRYPT, value: true },
  { type: ck.CKA_WRAP, value: true },
  { type: ck.CKA_UNWRAP, value: true },
  { type: ck.CKA_SIGN, value: false },
  { type: ck.CKA_VERIFY, value: false },
];

/** What C_CreateObject is to make for an imported key: the private (or secret) object first. */
export interface ImportObjects {
  readonly kty: HsmKeyType;
  readonly key: Template;
  readonly public?: Template;
  readonly curve?: CurveName;
  /** The public part, as validated (the keystore reads it back from the token). */
  readonly publicJwk: PublicJwk;
  /** Zeroes the buffers that hold private components. */
  wipe(): void;
}

const KTY_OF: Readonly<Record<string, HsmKeyType>> = {
  RSA: 'RSA-HSM',
  'RSA-HSM': 'RSA-HSM',
  EC: 'EC-HSM',
  'EC-HSM': 'EC-HSM',
  oct: 'oct-HSM',
  'oct-HSM': 'oct-HSM',
};

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Validates a JWK with private members and builds the templates of its token objects. */
export function importObjects(
  jwk: unknown,
  templates: { privateKey: Template; publicKey: Template },
): ImportObjects {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new BadParameterError('key must be a JSON web key object');
  }
  const members = jwk as Record<string, unknown>;
  const kty =
    typeof members.kty === 'string' && Object.hasOwn(KTY_OF, members.kty) ? KTY_OF[members.kty] : undefined;
  if (kty === undefined) {
    throw new BadParameterError(
      "JWK member 'kty' must be RSA, EC or oct (or RSA-HSM, EC-HSM, oct-HSM) to import a key into the HSM",
    );
  }
  if (members.key_hsm != null) {
    throw new BadParameterError(
      "JWK member 'key_hsm' (a BYOK transfer blob) is not accepted: import the key's private members instead",
    );
  }
  if (kty === 'RSA-HSM') return rsaObjects(members, templates);
  if (kty === 'EC-HSM') return ecObjects(members, templates);
  return aesObjects(members, templates);
}

function rsaObjects(
  members: Record<string, unknown>,
  { privateKey, publicKey }: { privateKey: Template; publicKey: Template },
): ImportObjects {
  const imported = importJwk({ ...members, kty: 'RSA' });
  imported.pkcs8.fill(0);
  const { n, e } = imported.publicJwk as { n: Buffer; e: Buffer };
  if (!HSM_RSA_KEY_SIZES.includes(n.length * 8)) {
    throw new BadParameterError(
      `JWK member 'n' must be a modulus of ${HSM_RSA_KEY_SIZES.join(', ')} bits for an RSA-HSM key`,
    );
  }
  const secrets = new Secrets(imported.privateKey.export({ format: 'jwk' }));
  const modulus = rsaModulus(n, e);
  return {
    kty: 'RSA-HSM',
    key: [
      { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
      ...modulus,
      ...privateKey,
      { type: ck.CKA_PRIVATE_EXPONENT, value: secrets.take('d') },
      { type: ck.CKA_PRIME_1, value: secrets.take('p') },
      { type: ck.CKA_PRIME_2, value: secrets.take('q') },
      { type: ck.CKA_EXPONENT_1, value: secrets.take('dp') },
      { type: ck.CKA_EXPONENT_2, value: secrets.take('dq') },
      { type: ck.CKA_COEFFICIENT, value: secrets.take('qi') },
      ...RSA_PRIVATE_USAGE,
    ],
    public: rsaPublicObject(n, e, publicKey),
    publicJwk: { kty: 'RSA-HSM', n, e },
    wipe: () => secrets.wipe(),
  };
}

function ecObjects(
  members: Record<string, unknown>,
  { privateKey, publicKey }: { privateKey: Template; publicKey: Template },
): ImportObjects {
  const imported = importJwk({ ...members, kty: 'EC' });
  imported.pkcs8.fill(0);
  const { crv, x, y } = imported.publicJwk as { crv: CurveName; x: Buffer; y: Buffer };
  const { params, size } = CURVES[crv];
  const secrets = new Secrets(imported.privateKey.export({ format: 'jwk' }));
  const d = secrets.take('d', size);
  const curve = ecCurve(params);
  return {
    kty: 'EC-HSM',
    curve: crv,
    key: [
      { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
      ...curve,
      ...privateKey,
      { type: ck.CKA_VALUE, value: d },
      ...EC_PRIVATE_USAGE,
    ],
    public: ecPublicObject(crv, x, y, publicKey),
    publicJwk: { kty: 'EC-HSM', crv, x, y },
    wipe: () => secrets.wipe(),
  };
}

function aesObjects(
  members: Record<string, unknown>,
  { privateKey }: { privateKey: Template; publicKey: Template },
): ImportObjects {
  const k = members.k;
  if (k === undefined || k === null) throw new BadParameterError("JWK member 'k' is required for an oct key");
  if (typeof k !== 'string' || !BASE64URL.test(k) || k.replace(/=+$/, '').length % 4 === 1) {
    throw new BadParameterError("JWK member 'k' must be a base64url string");
  }
  const value = Buffer.from(k.replace(/=+$/, ''), 'base64url');
  if (!HSM_AES_KEY_SIZES.includes(value.length * 8)) {
    value.fill(0);
    throw new BadParameterError(
      `JWK member 'k' must be a key of ${HSM_AES_KEY_SIZES.join(', ')} bits for an oct-HSM key`,
    );
  }
  return {
    kty: 'oct-HSM',
    key: [...privateKey, ...AES_SECRET_KEY, { type: ck.CKA_VALUE, value }],
    publicJwk: { kty: 'oct-HSM' },
    wipe: () => value.fill(0),
  };
}

const rsaModulus = (n: Buffer, e: Buffer): Template => [
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_RSA },
  { type: ck.CKA_MODULUS, value: n },
  { type: ck.CKA_PUBLIC_EXPONENT, value: e },
];

const ecCurve = (params: string): Template => [
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_EC },
  { type: ck.CKA_EC_PARAMS, value: Buffer.from(params, 'hex') },
];

/** The C_CreateObject template of an RSA key's public object (import, and restore from a backup). */
export function rsaPublicObject(n: Buffer, e: Buffer, publicKey: Template): Template {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
    ...rsaModulus(n, e),
    ...publicKey,
    ...RSA_PUBLIC_USAGE,
  ];
}

/** The C_CreateObject template of an EC key's public object (import, and restore from a backup). */
export function ecPublicObject(crv: CurveName, x: Buffer, y: Buffer, publicKey: Template): Template {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
    ...ecCurve(CURVES[crv].params),
    ...publicKey,
    { type: ck.CKA_EC_POINT, value: derOctetString(Buffer.concat([Buffer.from([4]), x, y])) },
    ...EC_PUBLIC_USAGE,
  ];
}

/** The bits of a validated oct JWK's `k`, from its length (without decoding the key again). */
export function octKeyBits(jwk: Readonly<Record<string, unknown>>): number {
  const k = typeof jwk.k === 'string' ? jwk.k.replace(/=+$/, '') : '';
  return Math.floor((k.length * 6) / 8) * 8;
}

/** The private members of an exported JWK, decoded into buffers that are zeroed together. */
class Secrets {
  readonly #buffers: Buffer[] = [];
  constructor(private readonly jwk: object) {}

  take(name: string, size?: number): Buffer {
    const value = (this.jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string') throw new BadParameterError(`JWK member '${name}' is required`);
    const bytes = Buffer.from(value, 'base64url');
    this.#buffers.push(bytes);
    if (size === undefined || bytes.length >= size) return bytes;
    const padded = leftPad(bytes, size);
    this.#buffers.push(padded);
    return padded;
  }

  wipe(): void {
    for (const buffer of this.#buffers) buffer.fill(0);
  }
}

/** DER OCTET STRING around `bytes` (CKA_EC_POINT; an uncompressed P-521 point needs the long form). */
export function derOctetString(bytes: Buffer): Buffer {
  const length = bytes.length < 0x80 ? Buffer.from([bytes.length]) : Buffer.from([0x81, bytes.length]);
  if (bytes.length > 0xff) throw new Error('OCTET STRING too long');
  return Buffer.concat([Buffer.from([0x04]), length, bytes]);
}
