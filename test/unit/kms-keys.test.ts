import assert from 'node:assert/strict';
import {
  constants,
  createECDH,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  randomUUID,
  type webcrypto,
} from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DecryptCommand,
  type DecryptCommandInput,
  DescribeKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type SignCommandInput,
  VerifyCommand,
  type VerifyCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BadParameterError,
  ConflictError,
  ForbiddenError,
  type KeyVaultError,
  ServiceUnavailableError,
  ThrottledError,
} from '#lib/errors.ts';
import type { CurveName, PublicJwk, SignatureAlgorithm } from '#lib/keys/key-operations.ts';
import { derToRawEcdsa, rawToDerEcdsa } from '#lib/keys/kms/ecdsa-signature.ts';
import { kmsBackend } from '#lib/keys/kms/kms-backend.ts';
import { KmsKey } from '#lib/keys/kms/kms-key.ts';
import {
  type CreatedKmsKey,
  type CreateKmsKeyRequest,
  createKmsKey,
  keySpecFor,
  scheduleDeletion,
  usageFor,
} from '#lib/keys/kms/kms-key-factory.ts';

// ---------------------------------------------------------------------------
// A fake KMS behind aws-sdk-client-mock, backed by real keys made here with
// node:crypto. It signs digests (MessageType DIGEST) the way KMS does:
// PKCS#1 v1.5 and PSS (salt = hash length) for RSA, DER-encoded ECDSA for EC,
// and rejects bad signatures with KMSInvalidSignatureException.
// ---------------------------------------------------------------------------

const kms = mockClient(KMSClient);
const client = new KMSClient({ region: 'eu-west-1' });

interface FakeKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keySpec: string;
  readonly keyUsage: string;
}
const keys = new Map<string, FakeKey>();
/** KeyState of each fake key that is not Enabled (PendingDeletion, Disabled), or Deleted once gone. */
const states = new Map<string, string>();

function awsError(name: string, message = `${name}: arn:aws:kms:secret-detail happened`): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

const rsaCache = new Map<number, { privateKey: KeyObject; publicKey: KeyObject }>();
function generateFor(keySpec: string): { privateKey: KeyObject; publicKey: KeyObject } {
  const rsa = /^RSA_(\d+)$/.exec(keySpec);
  if (rsa) {
    const bits = Number(rsa[1]);
    // Fresh 2048-bit keys for every KMS key; the big ones are slow, so made once.
    if (bits === 2048) return generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cached = rsaCache.get(bits) ?? generateKeyPairSync('rsa', { modulusLength: bits });
    rsaCache.set(bits, cached);
    return cached;
  }
  const curve = {
    ECC_NIST_P256: 'P-256',
    ECC_SECG_P256K1: 'secp256k1',
    ECC_NIST_P384: 'P-384',
    ECC_NIST_P521: 'P-521',
  }[keySpec];
  if (!curve) throw awsError('UnsupportedOperationException');
  return generateKeyPairSync('ec', { namedCurve: curve });
}

function fakeKey(keyId: string | undefined): FakeKey {
  const key = keys.get(keyId ?? '');
  if (!key) throw awsError('NotFoundException');
  return key;
}

const HASHES: Record<string, { hash: string; length: number; digestInfo: string }> = {
  '256': { hash: 'sha256', length: 32, digestInfo: '3031300d060960864801650304020105000420' },
  '384': { hash: 'sha384', length: 48, digestInfo: '3041300d060960864801650304020205000430' },
  '512': { hash: 'sha512', length: 64, digestInfo: '3051300d060960864801650304020305000440' },
};

function checkSigningRequest(key: FakeKey, input: SignCommandInput | VerifyCommandInput) {
  if (key.keyUsage !== 'SIGN_VERIFY') throw awsError('InvalidKeyUsageException');
  const algorithm = input.SigningAlgorithm ?? '';
  const hash = HASHES[algorithm.slice(-3)];
  if (input.MessageType !== 'DIGEST' || !hash || input.Message?.length !== hash.length) {
    throw awsError('ValidationException');
  }
  const ecCurve = ECDSA_CURVES[key.keySpec];
  if (algorithm.startsWith('ECDSA') !== Boolean(ecCurve)) throw awsError('InvalidKeyUsageException');
  return { algorithm, hash, digest: Buffer.from(input.Message), curve: ecCurve };
}

function fakeSign(input: SignCommandInput) {
  const key = fakeKey(input.KeyId);
  const { algorithm, hash, digest, curve } = checkSigningRequest(key, input);
  let signature: Buffer;
  if (curve) {
    const d = BigInt(`0x${Buffer.from(jwkOf(key.privateKey).d ?? '', 'base64url').toString('hex')}`);
    signature = ecdsaSign(curve, d, digest);
  } else if (algorithm.startsWith('RSASSA_PSS')) {
    const em = emsaPssEncode(digest, hash.hash, modulusBits(key) - 1);
    signature = privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, em);
  } else {
    const encoded = Buffer.concat([Buffer.from(hash.digestInfo, 'hex'), digest]);
    signature = privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, encoded);
  }
  return { KeyId: input.KeyId, Signature: signature, SigningAlgorithm: input.SigningAlgorithm };
}

function fakeVerify(input: VerifyCommandInput) {
  const key = fakeKey(input.KeyId);
  const { algorithm, hash, digest, curve } = checkSigningRequest(key, input);
  const signature = Buffer.from(input.Signature ?? []);
  let valid: boolean;
  if (curve) {
    const q = jwkOf(key.publicKey);
    const point = {
      x: hexInt(Buffer.from(q.x ?? '', 'base64url')),
      y: hexInt(Buffer.from(q.y ?? '', 'base64url')),
    };
    valid = ecdsaVerify(curve, point, digest, signature);
  } else {
    let recovered: Buffer | undefined;
    const pss = algorithm.startsWith('RSASSA_PSS');
    try {
      recovered = publicDecrypt(
        { key: key.publicKey, padding: pss ? constants.RSA_NO_PADDING : constants.RSA_PKCS1_PADDING },
        signature,
      );
    } catch {
      recovered = undefined;
    }
    valid =
      recovered !== undefined &&
      (pss
        ? emsaPssVerify(digest, recovered, hash.hash, modulusBits(key) - 1)
        : recovered.equals(Buffer.concat([Buffer.from(hash.digestInfo, 'hex'), digest])));
  }
  // Real KMS reports an invalid signature by throwing, never with SignatureValid: false.
  if (!valid) throw awsError('KMSInvalidSignatureException');
  return { KeyId: input.KeyId, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
}

function fakeDecrypt(input: DecryptCommandInput) {
  const key = fakeKey(input.KeyId);
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') throw awsError('InvalidKeyUsageException');
  const hashes: Record<string, string> = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' };
  const oaepHash = hashes[input.EncryptionAlgorithm ?? ''];
  if (!oaepHash) throw awsError('ValidationException');
  try {
    const plaintext = privateDecrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
      Buffer.from(input.CiphertextBlob ?? []),
    );
    return { KeyId: input.KeyId, Plaintext: plaintext, EncryptionAlgorithm: input.EncryptionAlgorithm };
  } catch {
    throw awsError('InvalidCiphertextException');
  }
}

function fakeCreateKey(input: CreateKeyCommandInput) {
  const keySpec = input.KeySpec ?? 'SYMMETRIC_DEFAULT';
  const keyUsage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
  const pair = generateFor(keySpec);
  const keyId = randomUUID();
  const arn = `arn:aws:kms:eu-west-1:111122223333:key/${keyId}`;
  keys.set(arn, { ...pair, keySpec, keyUsage });
  return { KeyMetadata: { KeyId: keyId, Arn: arn, KeySpec: keySpec, KeyUsage: keyUsage } } as never;
}

function installFakeKms() {
  kms.on(CreateKeyCommand).callsFake(fakeCreateKey);
  kms.on(GetPublicKeyCommand).callsFake((input: { KeyId?: string }) => {
    const key = fakeKey(input.KeyId);
    return {
      KeyId: input.KeyId,
      PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }),
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
    } as never;
  });
  kms.on(SignCommand).callsFake(fakeSign);
  kms.on(VerifyCommand).callsFake(fakeVerify);
  kms.on(DecryptCommand).callsFake(fakeDecrypt);
  kms.on(DescribeKeyCommand).callsFake((input: { KeyId?: string }) => {
    if (states.get(input.KeyId ?? '') === 'Deleted') throw awsError('NotFoundException');
    fakeKey(input.KeyId);
    return {
      KeyMetadata: { KeyId: input.KeyId, KeyState: states.get(input.KeyId ?? '') ?? 'Enabled' },
    } as never;
  });
  kms.on(CancelKeyDeletionCommand).callsFake((input: { KeyId?: string }) => {
    if (states.get(input.KeyId ?? '') !== 'PendingDeletion') throw awsError('KMSInvalidStateException');
    states.set(input.KeyId ?? '', 'Disabled');
    return { KeyId: input.KeyId };
  });
  kms.on(EnableKeyCommand).callsFake((input: { KeyId?: string }) => {
    if (states.get(input.KeyId ?? '') !== 'Disabled') throw awsError('KMSInvalidStateException');
    states.delete(input.KeyId ?? '');
    return {};
  });
  kms.on(ScheduleKeyDeletionCommand).callsFake((input: { KeyId?: string; PendingWindowInDays?: number }) => {
    fakeKey(input.KeyId);
    states.set(input.KeyId ?? '', 'PendingDeletion');
    return {
      KeyId: input.KeyId,
      DeletionDate: new Date('2030-01-08T00:00:00Z'),
      KeyState: 'PendingDeletion',
    };
  });
}

function jwkOf(key: KeyObject): webcrypto.JsonWebKey {
  return key.export({ format: 'jwk' });
}
function modulusBits(key: FakeKey): number {
  return key.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
}
function hexInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

// --- RSASSA-PSS over a digest (RFC 8017 §9.1), salt length = hash length ---

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * seed.length < length + 64; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function emsaPssEncode(mHash: Buffer, hash: string, emBits: number): Buffer {
  const emLen = Math.ceil(emBits / 8);
  const hLen = mHash.length;
  const salt = randomBytes(hLen);
  const h = createHash(hash)
    .update(Buffer.concat([Buffer.alloc(8), mHash, salt]))
    .digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // RSA_NO_PADDING wants exactly the modulus length.
  return em.length * 8 < emBits + 1 ? Buffer.concat([Buffer.alloc(1), em]) : em;
}

function emsaPssVerify(mHash: Buffer, recovered: Buffer, hash: string, emBits: number): boolean {
  const emLen = Math.ceil(emBits / 8);
  const em = recovered.subarray(recovered.length - emLen);
  const hLen = mHash.length;
  if (em[em.length - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(Buffer.from(h), masked.length, hash);
  const db = Buffer.from(masked.map((byte, i) => byte ^ (mask[i] ?? 0)));
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const ps = db.subarray(0, emLen - 2 * hLen - 2);
  if (ps.some((byte) => byte !== 0) || db[ps.length] !== 1) return false;
  const salt = db.subarray(ps.length + 1);
  const expected = createHash(hash)
    .update(Buffer.concat([Buffer.alloc(8), mHash, salt]))
    .digest();
  return expected.equals(Buffer.from(h));
}

// --- ECDSA over a digest with BigInt arithmetic (node:crypto always hashes) ---

type Point = { x: bigint; y: bigint } | null;
interface Curve {
  readonly p: bigint;
  readonly a: bigint;
  readonly n: bigint;
  readonly g: Point;
  readonly size: number;
}

function curve(ecdhName: string, p: bigint, aIsZero: boolean, n: bigint, size: number): Curve {
  // The generator is 1·G: the public key of private scalar 1.
  const one = Buffer.alloc(size);
  one[size - 1] = 1;
  const ecdh = createECDH(ecdhName);
  ecdh.setPrivateKey(one);
  const g = ecdh.getPublicKey();
  return {
    p,
    a: aIsZero ? 0n : p - 3n,
    n,
    size,
    g: { x: hexInt(g.subarray(1, 1 + size)), y: hexInt(g.subarray(1 + size)) },
  };
}

const ECDSA_CURVES: Record<string, Curve> = {
  ECC_NIST_P256: curve(
    'prime256v1',
    0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    false,
    0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    32,
  ),
  ECC_SECG_P256K1: curve(
    'secp256k1',
    2n ** 256n - 2n ** 32n - 977n,
    true,
    0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
    32,
  ),
  ECC_NIST_P384: curve(
    'secp384r1',
    0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    false,
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    48,
  ),
  ECC_NIST_P521: curve(
    'secp521r1',
    2n ** 521n - 1n,
    false,
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    66,
  ),
};

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, t0, t1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return mod(t0, m);
}
function add(c: Curve, P: Point, Q: Point): Point {
  if (!P) return Q;
  if (!Q) return P;
  let lambda: bigint;
  if (P.x === Q.x) {
    if (mod(P.y + Q.y, c.p) === 0n) return null;
    lambda = mod((3n * P.x * P.x + c.a) * inverse(2n * P.y, c.p), c.p);
  } else {
    lambda = mod((Q.y - P.y) * inverse(Q.x - P.x, c.p), c.p);
  }
  const x = mod(lambda * lambda - P.x - Q.x, c.p);
  return { x, y: mod(lambda * (P.x - x) - P.y, c.p) };
}
function multiply(c: Curve, k: bigint, P: Point): Point {
  let result: Point = null;
  let addend = P;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(c, result, addend);
    addend = add(c, addend, addend);
  }
  return result;
}
function digestInt(c: Curve, digest: Buffer): bigint {
  const excess = digest.length * 8 - c.n.toString(2).length;
  return excess > 0 ? hexInt(digest) >> BigInt(excess) : hexInt(digest);
}
function randomScalar(c: Curve): bigint {
  for (;;) {
    const k = hexInt(randomBytes(c.size)) % c.n;
    if (k > 0n) return k;
  }
}

/** DER ECDSA, written independently of the code under test. */
function derEncode(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
    const bytes = Buffer.from(hex, 'hex');
    return Buffer.concat([Buffer.from([2, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}
function derDecode(der: Buffer): { r: bigint; s: bigint } | undefined {
  if (der[0] !== 0x30) return undefined;
  let at = der[1] === 0x81 ? 3 : 2;
  const read = () => {
    if (der[at] !== 2) return undefined;
    const length = der[at + 1] ?? 0;
    const value = hexInt(der.subarray(at + 2, at + 2 + length));
    at += 2 + length;
    return value;
  };
  const r = read();
  const s = read();
  return r === undefined || s === undefined || at !== der.length ? undefined : { r, s };
}

function ecdsaSign(c: Curve, d: bigint, digest: Buffer): Buffer {
  const e = digestInt(c, digest);
  for (;;) {
    const k = randomScalar(c);
    const R = multiply(c, k, c.g);
    const r = mod(R?.x ?? 0n, c.n);
    const s = mod(inverse(k, c.n) * (e + r * d), c.n);
    if (r !== 0n && s !== 0n) return derEncode(r, s);
  }
}
function ecdsaVerify(c: Curve, q: Point, digest: Buffer, der: Buffer): boolean {
  const decoded = derDecode(der);
  if (!decoded) return false;
  const { r, s } = decoded;
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const w = inverse(s, c.n);
  const X = add(c, multiply(c, mod(digestInt(c, digest) * w, c.n), c.g), multiply(c, mod(r * w, c.n), q));
  return X !== null && mod(X.x, c.n) === r;
}

// ---------------------------------------------------------------------------

const base = { vault: 'payments', name: 'signing-key', version: '0123456789abcdef0123456789abcdef' };

async function newKey(
  request: Partial<CreateKmsKeyRequest> = {},
): Promise<{ created: CreatedKmsKey; key: KmsKey }> {
  const created = await createKmsKey(client, { kty: 'RSA-HSM', ...base, ...request });
  return { created, key: new KmsKey(client, created) };
}

/** A node:crypto public key built from the PublicJwk the factory returned. */
function nodeKey(jwk: PublicJwk): KeyObject {
  const b64 = (value: Buffer | undefined) => value?.toString('base64url');
  if (jwk.kty === 'RSA-HSM')
    return createPublicKey({ key: { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) }, format: 'jwk' });
  const crv = jwk.crv === 'P-256K' ? 'secp256k1' : jwk.crv;
  return createPublicKey({ key: { kty: 'EC', crv, x: b64(jwk.x), y: b64(jwk.y) }, format: 'jwk' });
}

function sha(bits: string, message: Buffer): Buffer {
  return createHash(`sha${bits}`).update(message).digest();
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => KeyVaultError,
  message: RegExp,
) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.match((error as Error).message, message);
    return true;
  });
}

function kmsCryptoCalls(): number {
  return (
    kms.commandCalls(SignCommand).length +
    kms.commandCalls(VerifyCommand).length +
    kms.commandCalls(DecryptCommand).length
  );
}

beforeEach(() => {
  kms.reset();
  keys.clear();
  states.clear();
  installFakeKms();
});

describe('KMS key spec and usage mapping', () => {
  it('maps RSA sizes and EC curves to KMS key specs', () => {
    assert.equal(keySpecFor('RSA-HSM'), 'RSA_2048');
    assert.equal(keySpecFor('RSA-HSM', 2048), 'RSA_2048');
    assert.equal(keySpecFor('RSA-HSM', 3072), 'RSA_3072');
    assert.equal(keySpecFor('RSA-HSM', 4096), 'RSA_4096');
    assert.equal(keySpecFor('EC-HSM'), 'ECC_NIST_P256');
    assert.equal(keySpecFor('EC-HSM', undefined, 'P-256'), 'ECC_NIST_P256');
    assert.equal(keySpecFor('EC-HSM', undefined, 'P-256K'), 'ECC_SECG_P256K1');
    assert.equal(keySpecFor('EC-HSM', undefined, 'P-384'), 'ECC_NIST_P384');
    assert.equal(keySpecFor('EC-HSM', undefined, 'P-521'), 'ECC_NIST_P521');
  });

  it('refuses sizes, curves and key types KMS does not have', () => {
    assert.throws(
      () => keySpecFor('RSA-HSM', 1024),
      /key_size for an RSA-HSM key must be 2048, 3072 or 4096/,
    );
    assert.throws(() => keySpecFor('RSA-HSM', 2048, 'P-256'), BadParameterError);
    assert.throws(() => keySpecFor('EC-HSM', 256, 'P-256'), /key_size applies to RSA keys/);
    assert.throws(
      () => keySpecFor('EC-HSM', undefined, 'P-224' as CurveName),
      /P-256, P-256K, P-384 or P-521/,
    );
    assert.throws(() => keySpecFor('oct-HSM' as never), /RSA-HSM or EC-HSM/);
  });

  it('derives one KMS key usage from key_ops', () => {
    assert.deepEqual(usageFor('RSA-HSM', undefined), { keyUsage: 'SIGN_VERIFY', keyOps: ['sign', 'verify'] });
    assert.deepEqual(usageFor('EC-HSM', []), { keyUsage: 'SIGN_VERIFY', keyOps: ['sign', 'verify'] });
    assert.deepEqual(usageFor('EC-HSM', ['verify', 'sign', 'sign']), {
      keyUsage: 'SIGN_VERIFY',
      keyOps: ['verify', 'sign'],
    });
    assert.deepEqual(usageFor('RSA-HSM', ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']), {
      keyUsage: 'ENCRYPT_DECRYPT',
      keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
    });
    assert.deepEqual(usageFor('RSA-HSM', ['unwrapKey']), {
      keyUsage: 'ENCRYPT_DECRYPT',
      keyOps: ['unwrapKey'],
    });
  });

  it('refuses key_ops a single KMS key cannot serve', () => {
    assert.throws(() => usageFor('RSA-HSM', ['sign', 'decrypt']), /one usage/);
    assert.throws(() => usageFor('RSA-HSM', ['verify', 'wrapKey']), BadParameterError);
    assert.throws(() => usageFor('EC-HSM', ['encrypt']), /EC-HSM key can only sign and verify/);
    assert.throws(() => usageFor('RSA-HSM', ['sign', 'export']), /cannot be exported/);
    assert.throws(() => usageFor('RSA-HSM', ['frobnicate']), /may only hold sign, verify, encrypt/);
  });

  it('makes no KMS call for a refused request', async () => {
    await rejectsWith(
      createKmsKey(client, { kty: 'RSA-HSM', ...base, keyOps: ['sign', 'encrypt'] }),
      BadParameterError,
      /one usage/,
    );
    await rejectsWith(
      createKmsKey(client, { kty: 'EC-HSM', ...base, size: 2048 }),
      BadParameterError,
      /key_size/,
    );
    assert.equal(kms.calls().length, 0);
  });
});

describe('createKmsKey', () => {
  const cases: Array<{ request: Partial<CreateKmsKeyRequest>; keySpec: string; keyUsage: string }> = [
    { request: { kty: 'RSA-HSM' }, keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' },
    {
      request: { kty: 'RSA-HSM', size: 3072, keyOps: ['sign'] },
      keySpec: 'RSA_3072',
      keyUsage: 'SIGN_VERIFY',
    },
    {
      request: { kty: 'RSA-HSM', size: 4096, keyOps: ['decrypt'] },
      keySpec: 'RSA_4096',
      keyUsage: 'ENCRYPT_DECRYPT',
    },
    { request: { kty: 'EC-HSM' }, keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' },
    { request: { kty: 'EC-HSM', crv: 'P-256K' }, keySpec: 'ECC_SECG_P256K1', keyUsage: 'SIGN_VERIFY' },
    { request: { kty: 'EC-HSM', crv: 'P-384' }, keySpec: 'ECC_NIST_P384', keyUsage: 'SIGN_VERIFY' },
    { request: { kty: 'EC-HSM', crv: 'P-521' }, keySpec: 'ECC_NIST_P521', keyUsage: 'SIGN_VERIFY' },
  ];
  for (const { request, keySpec, keyUsage } of cases) {
    it(`creates a ${keySpec} ${keyUsage} key and returns its ARN and public JWK`, async () => {
      const { created } = await newKey(request);
      const createInput = kms.commandCalls(CreateKeyCommand)[0]?.args[0].input;
      assert.deepEqual(createInput, {
        KeySpec: keySpec,
        KeyUsage: keyUsage,
        Origin: 'AWS_KMS',
        Description: 'Arca key version payments/signing-key/0123456789abcdef0123456789abcdef',
        Tags: [
          { TagKey: 'arca:vault', TagValue: 'payments' },
          { TagKey: 'arca:name', TagValue: 'signing-key' },
          { TagKey: 'arca:version', TagValue: '0123456789abcdef0123456789abcdef' },
        ],
      });
      assert.match(created.keyId, /^arn:aws:kms:eu-west-1:111122223333:key\//);
      assert.equal(created.keyUsage, keyUsage);
      assert.deepEqual(kms.commandCalls(GetPublicKeyCommand)[0]?.args[0].input, { KeyId: created.keyId });

      const real = jwkOf(fakeKey(created.keyId).publicKey);
      const jwk = created.publicJwk;
      assert.equal(jwk.kty, request.kty);
      if (real.kty === 'RSA') {
        assert.equal(jwk.n?.toString('base64url'), real.n);
        assert.equal(jwk.e?.toString('base64url'), real.e);
        assert.equal(jwk.crv, undefined);
      } else {
        assert.equal(jwk.crv, request.crv ?? 'P-256');
        assert.equal(jwk.x?.toString('base64url'), real.x);
        assert.equal(jwk.y?.toString('base64url'), real.y);
      }
      assert.equal('d' in jwk, false);
    });
  }

  it('adds deployment tags after the identifier tags and refuses reserved ones', async () => {
    await newKey({ tags: { 'cost-centre': 'crypto' } });
    assert.deepEqual(kms.commandCalls(CreateKeyCommand)[0]?.args[0].input.Tags?.at(-1), {
      TagKey: 'cost-centre',
      TagValue: 'crypto',
    });
    await rejectsWith(newKey({ tags: { 'arca:vault': 'other' } }), BadParameterError, /reserved/);
    await rejectsWith(newKey({ tags: { 'aws:x': 'y' } }), BadParameterError, /reserved/);
    assert.equal(kms.commandCalls(CreateKeyCommand).length, 1);
  });

  it('schedules the new KMS key for deletion when its public key cannot be read', async () => {
    kms.on(GetPublicKeyCommand).rejects(awsError('ThrottlingException'));
    await rejectsWith(newKey(), ThrottledError, /throttling/);
    const arn = [...keys.keys()][0];
    assert.deepEqual(kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input, {
      KeyId: arn,
      PendingWindowInDays: 7,
    });
  });

  it('refuses a public key that does not match the key spec asked for', async () => {
    kms.on(GetPublicKeyCommand).callsFake(() => ({
      PublicKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
        format: 'der',
        type: 'spki',
      }),
    }));
    await rejectsWith(newKey({ kty: 'EC-HSM', crv: 'P-256' }), ServiceUnavailableError, /does not match/);
    assert.equal(kms.commandCalls(ScheduleKeyDeletionCommand).length, 1);
  });

  it('translates CreateKey failures, naming only the exception', async () => {
    kms.on(CreateKeyCommand).rejects(awsError('LimitExceededException'));
    await rejectsWith(
      newKey(),
      ServiceUnavailableError,
      /^The key service is unavailable \(LimitExceededException\)\.$/,
    );
  });
});

describe('scheduleDeletion', () => {
  it('schedules deletion of the KMS key after the given window', async () => {
    const { created } = await newKey({ kty: 'EC-HSM' });
    const result = await scheduleDeletion(client, created.keyId, 30);
    assert.deepEqual(kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input, {
      KeyId: created.keyId,
      PendingWindowInDays: 30,
    });
    assert.deepEqual(result.deletionDate, new Date('2030-01-08T00:00:00Z'));
  });

  it('refuses windows KMS does not allow, without calling it', async () => {
    for (const days of [6, 31, 7.5, Number.NaN]) {
      await rejectsWith(scheduleDeletion(client, 'arn:x', days), BadParameterError, /from 7 to 30/);
    }
    assert.equal(kms.calls().length, 0);
  });

  it('is idempotent: a key already gone or pending deletion counts as done', async () => {
    kms.on(ScheduleKeyDeletionCommand).rejects(awsError('NotFoundException'));
    assert.deepEqual(await scheduleDeletion(client, 'arn:gone', 7), {});

    kms.on(ScheduleKeyDeletionCommand).rejects(awsError('KMSInvalidStateException'));
    const date = new Date('2030-02-01T00:00:00Z');
    kms
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'PendingDeletion', DeletionDate: date } });
    assert.deepEqual(await scheduleDeletion(client, 'arn:pending', 7), { deletionDate: date });

    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'Unavailable' } });
    await rejectsWith(scheduleDeletion(client, 'arn:unavailable', 7), ForbiddenError, /not usable/);
  });
});

describe('KmsKey signing', () => {
  for (const algorithm of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
    it(`${algorithm}: KMS signs the digest; node:crypto verifies it with the public JWK`, async () => {
      const { created, key } = await newKey();
      const bits = algorithm.slice(2);
      const message = randomBytes(100);
      const digest = sha(bits, message);
      const signature = await key.sign(algorithm, digest);

      const pss = algorithm.startsWith('PS');
      const kmsAlgorithm = `${pss ? 'RSASSA_PSS' : 'RSASSA_PKCS1_V1_5'}_SHA_${bits}`;
      assert.deepEqual(kms.commandCalls(SignCommand)[0]?.args[0].input, {
        KeyId: created.keyId,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: kmsAlgorithm,
      });
      assert.equal(signature.length, 256);
      const verifyKey = pss
        ? {
            key: nodeKey(created.publicJwk),
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          }
        : nodeKey(created.publicJwk);
      assert.equal(nodeVerify(`sha${bits}`, message, verifyKey, signature), true);

      // And back: KMS verifies it, and a node:crypto signature, and refuses a tampered one.
      assert.equal(await key.verify(algorithm, digest, signature), true);
      assert.deepEqual(kms.commandCalls(VerifyCommand)[0]?.args[0].input, {
        KeyId: created.keyId,
        Message: digest,
        MessageType: 'DIGEST',
        Signature: signature,
        SigningAlgorithm: kmsAlgorithm,
      });
      const nodeSignature = nodeSign(
        `sha${bits}`,
        message,
        pss
          ? {
              key: fakeKey(created.keyId).privateKey,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
            }
          : fakeKey(created.keyId).privateKey,
      );
      assert.equal(await key.verify(algorithm, digest, nodeSignature), true);
      const tampered = Buffer.from(signature);
      tampered[10] = (tampered[10] ?? 0) ^ 1;
      assert.equal(await key.verify(algorithm, digest, tampered), false);
      assert.equal(await key.verify(algorithm, sha(bits, randomBytes(5)), signature), false);
    });
  }

  const ecCases: Array<{
    algorithm: SignatureAlgorithm;
    crv: CurveName;
    kms: string;
    bits: string;
    size: number;
  }> = [
    { algorithm: 'ES256', crv: 'P-256', kms: 'ECDSA_SHA_256', bits: '256', size: 32 },
    { algorithm: 'ES256K', crv: 'P-256K', kms: 'ECDSA_SHA_256', bits: '256', size: 32 },
    { algorithm: 'ES384', crv: 'P-384', kms: 'ECDSA_SHA_384', bits: '384', size: 48 },
    { algorithm: 'ES512', crv: 'P-521', kms: 'ECDSA_SHA_512', bits: '512', size: 66 },
  ];
  for (const { algorithm, crv, kms: kmsAlgorithm, bits, size } of ecCases) {
    it(`${algorithm} on ${crv}: KMS's DER signature comes back as raw r||s that node:crypto verifies`, async () => {
      const { created, key } = await newKey({ kty: 'EC-HSM', crv });
      for (let round = 0; round < 4; round++) {
        const message = randomBytes(64);
        const digest = sha(bits, message);
        const signature = await key.sign(algorithm, digest);
        assert.equal(signature.length, 2 * size);
        assert.equal(
          nodeVerify(
            `sha${bits}`,
            message,
            { key: nodeKey(created.publicJwk), dsaEncoding: 'ieee-p1363' },
            signature,
          ),
          true,
        );
        // KMS got the digest and its own algorithm name.
        assert.deepEqual(kms.commandCalls(SignCommand)[round]?.args[0].input, {
          KeyId: created.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: kmsAlgorithm,
        });

        // Verify sends KMS the same r and s, DER-encoded.
        assert.equal(await key.verify(algorithm, digest, signature), true);
        const sent = kms.commandCalls(VerifyCommand).at(-1)?.args[0].input;
        assert.equal(sent?.MessageType, 'DIGEST');
        assert.equal(sent?.SigningAlgorithm, kmsAlgorithm);
        assert.equal(sent?.KeyId, created.keyId);
        const decoded = derDecode(Buffer.from(sent?.Signature ?? []));
        assert.equal(decoded?.r, hexInt(signature.subarray(0, size)));
        assert.equal(decoded?.s, hexInt(signature.subarray(size)));
      }

      const message = randomBytes(64);
      const digest = sha(bits, message);
      const nodeSignature = nodeSign(`sha${bits}`, message, {
        key: fakeKey(created.keyId).privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      assert.equal(await key.verify(algorithm, digest, nodeSignature), true);
      const tampered = Buffer.from(nodeSignature);
      tampered[size + 3] = (tampered[size + 3] ?? 0) ^ 0x40;
      assert.equal(await key.verify(algorithm, digest, tampered), false);
    });
  }

  it('checks digest lengths, algorithm/key fit and usage before calling KMS', async () => {
    const { key: ec } = await newKey({ kty: 'EC-HSM', crv: 'P-256' });
    const { key: rsa } = await newKey();
    const { key: encrypting } = await newKey({ keyOps: ['encrypt', 'decrypt'] });
    await rejectsWith(
      ec.sign('ES256', randomBytes(48)),
      BadParameterError,
      /digest for ES256 must be 32 bytes/,
    );
    await rejectsWith(
      rsa.sign('PS512', randomBytes(32)),
      BadParameterError,
      /digest for PS512 must be 64 bytes/,
    );
    await rejectsWith(rsa.verify('RS384', randomBytes(32), randomBytes(256)), BadParameterError, /48 bytes/);
    await rejectsWith(
      ec.sign('ES384', randomBytes(48)),
      BadParameterError,
      /ES384 does not apply to this key \(EC P-256\)/,
    );
    await rejectsWith(ec.sign('ES256K', randomBytes(32)), BadParameterError, /does not apply/);
    await rejectsWith(ec.sign('RS256', randomBytes(32)), BadParameterError, /does not apply/);
    await rejectsWith(
      rsa.sign('ES256', randomBytes(32)),
      BadParameterError,
      /does not apply to this key \(RSA 2048\)/,
    );
    await rejectsWith(rsa.sign('HS256' as SignatureAlgorithm, randomBytes(32)), BadParameterError, /Unknown/);
    await rejectsWith(
      encrypting.sign('RS256', randomBytes(32)),
      BadParameterError,
      /usage is ENCRYPT_DECRYPT/,
    );
    // Signatures of the wrong length are simply invalid.
    assert.equal(await ec.verify('ES256', randomBytes(32), randomBytes(63)), false);
    assert.equal(await rsa.verify('RS256', randomBytes(32), randomBytes(255)), false);
    assert.equal(kmsCryptoCalls(), 0);
  });

  it('refuses a malformed signature from KMS', async () => {
    const { key } = await newKey({ kty: 'EC-HSM' });
    kms.on(SignCommand).resolves({ Signature: Buffer.from('3006020100020101', 'hex') });
    await rejectsWith(key.sign('ES256', randomBytes(32)), ServiceUnavailableError, /malformed signature/);
  });
});

describe('ECDSA signature encodings', () => {
  it('round-trips raw r||s through DER, padding short and high-bit integers', () => {
    for (const size of [32, 48, 66]) {
      const raw = Buffer.alloc(2 * size);
      raw[size - 1] = 0x05; // r = 5: leading zeros stripped, restored on the way back
      raw[size] = 0x80; // s with its high bit set: needs a 0x00 sign byte in DER
      raw[2 * size - 1] = 0x01;
      const der = rawToDerEcdsa(raw, size);
      assert.deepEqual(derDecode(der), { r: 5n, s: hexInt(raw.subarray(size)) });
      assert.deepEqual(derToRawEcdsa(der, size), raw);
      const random = randomBytes(2 * size);
      if (size === 66) random[0] = 1; // P-521 r and s fit in 521 bits
      assert.deepEqual(derToRawEcdsa(rawToDerEcdsa(random, size), size), random);
    }
  });

  it('rejects DER that is not a strict, fitting ECDSA signature', () => {
    const bad = [
      '300602010502', // truncated
      '3006020105020105ff', // trailing byte
      '300702020005020105', // non-minimal integer
      '3006020185020105', // negative r
      '3006020100020105', // r = 0
      '3106020105020105', // not a SEQUENCE
    ];
    for (const hex of bad) assert.equal(derToRawEcdsa(Buffer.from(hex, 'hex'), 32), undefined, hex);
    const tooBig = derEncode(2n ** 260n, 5n);
    assert.equal(derToRawEcdsa(tooBig, 32), undefined);
  });
});

describe('KmsKey encryption', () => {
  async function encryptionKey() {
    return newKey({ keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] });
  }

  for (const [algorithm, oaepHash, kmsAlgorithm] of [
    ['RSA-OAEP', 'sha1', 'RSAES_OAEP_SHA_1'],
    ['RSA-OAEP-256', 'sha256', 'RSAES_OAEP_SHA_256'],
  ] as const) {
    it(`${algorithm}: decrypts node:crypto ciphertexts in KMS and encrypts locally`, async () => {
      const { created, key } = await encryptionKey();
      const plaintext = randomBytes(64);
      const ciphertext = publicEncrypt(
        { key: nodeKey(created.publicJwk), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
        plaintext,
      );
      assert.deepEqual(await key.decrypt(algorithm, ciphertext), plaintext);
      assert.deepEqual(kms.commandCalls(DecryptCommand)[0]?.args[0].input, {
        KeyId: created.keyId,
        CiphertextBlob: ciphertext,
        EncryptionAlgorithm: kmsAlgorithm,
      });

      const callsBefore = kms.calls().length;
      const { ciphertext: local } = await key.encrypt(algorithm, plaintext);
      assert.equal(kms.calls().length, callsBefore, 'encrypt makes no KMS call');
      assert.equal(local.length, 256);
      const privateKey = fakeKey(created.keyId).privateKey;
      assert.deepEqual(
        privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, local),
        plaintext,
      );
      assert.deepEqual(await key.decrypt(algorithm, local), plaintext);

      const aesKey = randomBytes(32);
      const wrapped = await key.wrapKey(algorithm, aesKey);
      assert.deepEqual(await key.unwrapKey(algorithm, wrapped), aesKey);
      assert.deepEqual(
        kms.commandCalls(DecryptCommand).at(-1)?.args[0].input.EncryptionAlgorithm,
        kmsAlgorithm,
      );
    });
  }

  it('holds plaintexts to what RSA-OAEP (and KMS) allow', async () => {
    const { key } = await encryptionKey();
    await key.encrypt('RSA-OAEP', randomBytes(214));
    await key.encrypt('RSA-OAEP-256', randomBytes(190));
    await rejectsWith(key.encrypt('RSA-OAEP', randomBytes(215)), BadParameterError, /1 to 214 bytes/);
    await rejectsWith(key.encrypt('RSA-OAEP-256', randomBytes(191)), BadParameterError, /1 to 190 bytes/);
    await rejectsWith(key.encrypt('RSA-OAEP', Buffer.alloc(0)), BadParameterError, /1 to 214 bytes/);
  });

  it('refuses RSA1_5, which KMS does not offer, before calling it', async () => {
    const { key } = await encryptionKey();
    const message = /RSA1_5 is not offered by AWS KMS.*use RSA-OAEP or RSA-OAEP-256/;
    await rejectsWith(key.decrypt('RSA1_5', randomBytes(256)), BadParameterError, message);
    await rejectsWith(key.encrypt('RSA1_5', randomBytes(16)), BadParameterError, message);
    await rejectsWith(key.wrapKey('RSA1_5', randomBytes(16)), BadParameterError, message);
    await rejectsWith(key.unwrapKey('RSA1_5', randomBytes(256)), BadParameterError, message);
    assert.equal(kmsCryptoCalls(), 0);
  });

  it('refuses other algorithms, GCM options, bad ciphertext lengths and the wrong usage', async () => {
    const { key } = await encryptionKey();
    const { key: signing } = await newKey();
    const { key: ec } = await newKey({ kty: 'EC-HSM' });
    await rejectsWith(key.wrapKey('A256KW', randomBytes(32)), BadParameterError, /A256KW does not apply/);
    await rejectsWith(key.decrypt('bogus' as never, randomBytes(256)), BadParameterError, /^This algorithm/);
    await rejectsWith(
      key.decrypt('RSA-OAEP', randomBytes(256), { iv: randomBytes(12) }),
      BadParameterError,
      /AES-GCM only/,
    );
    await rejectsWith(
      key.decrypt('RSA-OAEP', randomBytes(100)),
      BadParameterError,
      /^ciphertext does not decrypt under this key$/,
    );
    await rejectsWith(
      signing.encrypt('RSA-OAEP', randomBytes(16)),
      BadParameterError,
      /encrypt is not allowed.*SIGN_VERIFY/,
    );
    await rejectsWith(
      signing.unwrapKey('RSA-OAEP', randomBytes(256)),
      BadParameterError,
      /unwrapKey is not allowed/,
    );
    await rejectsWith(ec.decrypt('RSA-OAEP', randomBytes(256)), BadParameterError, /not allowed/);
    assert.equal(kmsCryptoCalls(), 0);
  });

  it('reports a ciphertext made under another key as not decrypting', async () => {
    const { key } = await encryptionKey();
    const { key: other } = await encryptionKey();
    const { ciphertext } = await other.encrypt('RSA-OAEP-256', randomBytes(32));
    await rejectsWith(
      key.decrypt('RSA-OAEP-256', ciphertext),
      BadParameterError,
      /^ciphertext does not decrypt under this key$/,
    );
  });
});

describe('KMS error translation', () => {
  const cases: Array<[string, new (...args: never[]) => KeyVaultError, RegExp]> = [
    [
      'KMSInvalidStateException',
      ForbiddenError,
      /not usable in its current state \(disabled or pending deletion\)/,
    ],
    ['DisabledException', ForbiddenError, /not usable/],
    ['ThrottlingException', ThrottledError, /throttling/],
    [
      'KMSInternalException',
      ServiceUnavailableError,
      /^The key service is unavailable \(KMSInternalException\)\.$/,
    ],
    [
      'AccessDeniedException',
      ServiceUnavailableError,
      /^The key service is unavailable \(AccessDeniedException\)\.$/,
    ],
  ];
  for (const [name, type, message] of cases) {
    it(`${name} on sign, verify and decrypt becomes ${type.name}`, async () => {
      const { key: signing } = await newKey({ kty: 'EC-HSM' });
      const { key: decrypting } = await newKey({ keyOps: ['decrypt'] });
      kms.on(SignCommand).rejects(awsError(name));
      kms.on(VerifyCommand).rejects(awsError(name));
      kms.on(DecryptCommand).rejects(awsError(name));
      for (const call of [
        () => signing.sign('ES256', randomBytes(32)),
        () => signing.verify('ES256', randomBytes(32), randomBytes(64)),
        () => decrypting.decrypt('RSA-OAEP', randomBytes(256)),
      ]) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof type, String(error));
          assert.match((error as Error).message, message);
          assert.doesNotMatch((error as Error).message, /arn:|secret-detail/);
          return true;
        });
      }
    });
  }

  it('InvalidCiphertextException becomes BadParameter', async () => {
    const { key } = await newKey({ keyOps: ['decrypt'] });
    kms.on(DecryptCommand).rejects(awsError('InvalidCiphertextException'));
    await rejectsWith(
      key.decrypt('RSA-OAEP', randomBytes(256)),
      BadParameterError,
      /^ciphertext does not decrypt under this key$/,
    );
  });

  it('an error without a usable name is reported as unknown', async () => {
    const { key } = await newKey({ kty: 'EC-HSM' });
    kms.on(SignCommand).rejects(Object.assign(new Error('boom'), { name: 'weird name with spaces: secret' }));
    await rejectsWith(key.sign('ES256', randomBytes(32)), ServiceUnavailableError, /\(unknown error\)/);
  });
});

describe('kmsBackend (the KeyBackend port over KMS keys)', () => {
  const ids = { vault: 'dev', name: 'k', version: randomBytes(16).toString('hex') };

  it('creates an EC-HSM version whose facts hold the public key KMS reports, and signs there', async () => {
    const backend = kmsBackend(client);
    const made = await backend.create({ kty: 'EC-HSM', crv: 'P-256', keyOps: ['sign', 'verify'] }, ids);
    assert.equal(made.facts.kty, 'EC-HSM');
    assert.equal(made.facts.protection, 'kms');
    assert.equal(made.facts.crv, 'P-256');
    assert.deepEqual(made.facts.keyOps, ['sign', 'verify']);
    const part = JSON.parse(made.privatePart.toString('utf8'));
    const fake = keys.get(part.keyId);
    assert.ok(fake, 'the private part names the KMS key, not key material');
    assert.equal(part.keyUsage, 'SIGN_VERIFY');
    assert.equal(made.facts.x, jwkOf(fake.publicKey).x);
    assert.equal(made.facts.y, jwkOf(fake.publicKey).y);

    const key = await backend.open(made.facts, made.privatePart);
    const digest = createHash('sha256').update('through the port').digest();
    const signature = await key.sign('ES256', digest);
    assert.equal(signature.length, 64, 'raw r||s');
    assert.ok(
      nodeVerify(
        'sha256',
        Buffer.from('through the port'),
        { key: fake.publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      ),
    );
    assert.equal(kms.commandCalls(SignCommand)[0]?.args[0].input.KeyId, part.keyId);
  });

  it('makes an RSA-HSM encryption key when key_ops ask for it; KMS decrypts what node encrypted', async () => {
    const backend = kmsBackend(client);
    const made = await backend.create(
      { kty: 'RSA-HSM', keySize: 2048, keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] },
      ids,
    );
    assert.equal(made.facts.keySize, 2048);
    const key = await backend.open(made.facts, made.privatePart);
    const fake = keys.get(JSON.parse(made.privatePart.toString('utf8')).keyId);
    const ciphertext = publicEncrypt(
      { key: fake?.publicKey as KeyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('sealed for KMS'),
    );
    assert.equal((await key.decrypt('RSA-OAEP-256', ciphertext)).toString(), 'sealed for KMS');
  });

  it('refuses oct-HSM (no raw AES key wrap in KMS) before any KMS call', async () => {
    await assert.rejects(
      kmsBackend(client).create({ kty: 'oct-HSM', keySize: 256, keyOps: ['wrapKey'] }, ids),
      (error: KeyVaultError) => error instanceof BadParameterError && /AWS KMS/.test(error.message),
    );
    assert.equal(kms.commandCalls(CreateKeyCommand).length, 0);
  });

  it('destroys by scheduling the KMS key for deletion after the shortest window', async () => {
    const backend = kmsBackend(client);
    const made = await backend.create({ kty: 'EC-HSM', crv: 'P-384', keyOps: ['sign', 'verify'] }, ids);
    await backend.destroy(made.facts, made.privatePart);
    const call = kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input;
    assert.equal(call?.KeyId, JSON.parse(made.privatePart.toString('utf8')).keyId);
    assert.equal(call?.PendingWindowInDays, 7);
  });

  it('backs a version up as its KMS key id, and restores it after purge by cancelling the deletion', async () => {
    const backend = kmsBackend(client);
    const made = await backend.create({ kty: 'EC-HSM', crv: 'P-256', keyOps: ['sign', 'verify'] }, ids);
    const exported = await backend.exportForBackup?.(made.facts, made.privatePart);
    assert.deepEqual(exported, made.privatePart, 'no material: KMS lets none out');
    const keyId = JSON.parse(made.privatePart.toString('utf8')).keyId as string;

    // While the KMS key serves a live (or soft-deleted) version, it is not shared with a restored one.
    await assert.rejects(
      backend.importFromBackup?.(made.facts, exported as Buffer) as Promise<Buffer>,
      ConflictError,
    );
    assert.equal(kms.commandCalls(CancelKeyDeletionCommand).length, 0);

    await backend.destroy(made.facts, made.privatePart);
    const restored = await backend.importFromBackup?.(made.facts, exported as Buffer);
    assert.deepEqual(restored, made.privatePart);
    assert.equal(kms.commandCalls(CancelKeyDeletionCommand)[0]?.args[0].input.KeyId, keyId);
    assert.equal(kms.commandCalls(EnableKeyCommand)[0]?.args[0].input.KeyId, keyId);
    assert.equal(states.get(keyId), undefined, 'enabled again');
    const key = await backend.open(made.facts, restored as Buffer);
    const digest = createHash('sha256').update('restored').digest();
    const fake = keys.get(keyId) as FakeKey;
    assert.ok(
      nodeVerify(
        'sha256',
        Buffer.from('restored'),
        { key: fake.publicKey, dsaEncoding: 'ieee-p1363' },
        await key.sign('ES256', digest),
      ),
    );
  });

  it('refuses to restore a version whose KMS key is gone, or a part that is not one, with 400', async () => {
    const backend = kmsBackend(client);
    const made = await backend.create({ kty: 'RSA-HSM', keySize: 2048, keyOps: ['sign'] }, ids);
    const keyId = JSON.parse(made.privatePart.toString('utf8')).keyId as string;
    states.set(keyId, 'Deleted');
    await assert.rejects(
      backend.importFromBackup?.(made.facts, made.privatePart) as Promise<Buffer>,
      (error: KeyVaultError) => error instanceof BadParameterError && /no longer exists/.test(error.message),
    );
    for (const bad of ['not json', '{}', '{"keyId":""}']) {
      await assert.rejects(
        backend.importFromBackup?.(made.facts, Buffer.from(bad)) as Promise<Buffer>,
        (error: KeyVaultError) => error instanceof BadParameterError && /corrupt/.test(error.message),
      );
    }
    assert.equal(kms.commandCalls(CancelKeyDeletionCommand).length, 0);
  });
});
