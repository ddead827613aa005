/**
 * Software keys (lib/keys/software): every algorithm on every key type and
 * size, each result checked independently with node:crypto (or WebCrypto, or
 * the openssl command for ECDSA over a digest), and every refusal checked to
 * be a BadParameterError.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { BadParameterError } from '#lib/errors.ts';
import type {
  CurveName,
  EncryptionAlgorithm,
  PublicJwk,
  SignatureAlgorithm,
} from '#lib/keys/key-operations.ts';
import { importJwk } from '#lib/keys/software/jwk-import.ts';
import {
  CURVES,
  generateEcKey,
  generateRsaKey,
  generateSoftwareKey,
  privateKeyFromPkcs8,
  type SoftwareKeyMaterial,
} from '#lib/keys/software/key-generation.ts';
import { type EcdsaDigestEngine, KEY_OPERATIONS, SoftwareKey } from '#lib/keys/software/software-key.ts';

const work = mkdtempSync(join(tmpdir(), 'arca-software-keys-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ALL_OPS = [...KEY_OPERATIONS];
const RSA_SIZES = [2048, 3072, 4096] as const;
const CURVE_NAMES = Object.keys(CURVES) as CurveName[];
const message = Buffer.from('the message that was hashed by the caller');

type Hash = 'sha256' | 'sha384' | 'sha512';
const RSA_SIGNATURES: { alg: SignatureAlgorithm; hash: Hash; pss: boolean }[] = [
  { alg: 'RS256', hash: 'sha256', pss: false },
  { alg: 'RS384', hash: 'sha384', pss: false },
  { alg: 'RS512', hash: 'sha512', pss: false },
  { alg: 'PS256', hash: 'sha256', pss: true },
  { alg: 'PS384', hash: 'sha384', pss: true },
  { alg: 'PS512', hash: 'sha512', pss: true },
];
const EC_SIGNATURES: Record<CurveName, { alg: SignatureAlgorithm; hash: Hash }> = {
  'P-256': { alg: 'ES256', hash: 'sha256' },
  'P-256K': { alg: 'ES256K', hash: 'sha256' },
  'P-384': { alg: 'ES384', hash: 'sha384' },
  'P-521': { alg: 'ES512', hash: 'sha512' },
};
const HASH_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

// Keys are made once (RSA 4096 takes a while).
const rsaMaterial = new Map<number, SoftwareKeyMaterial>();
for (const size of RSA_SIZES) rsaMaterial.set(size, await generateRsaKey(size));
const ecMaterial = new Map<CurveName, SoftwareKeyMaterial>();
for (const curve of CURVE_NAMES) ecMaterial.set(curve, await generateEcKey(curve));

function rsaKey(size: number, keyOps: readonly string[] = ALL_OPS): SoftwareKey {
  return SoftwareKey.fromPkcs8(material(rsaMaterial.get(size)).pkcs8, keyOps);
}

function ecKey(
  curve: CurveName,
  engine?: EcdsaDigestEngine,
  keyOps: readonly string[] = ALL_OPS,
): SoftwareKey {
  return SoftwareKey.fromPkcs8(
    material(ecMaterial.get(curve)).pkcs8,
    keyOps,
    engine ? { ecdsa: engine } : {},
  );
}

function material(value: SoftwareKeyMaterial | undefined): SoftwareKeyMaterial {
  assert.ok(value);
  return value;
}

/** A node KeyObject built from the public JWK alone, independent of SoftwareKey. */
function nodePublicKey(jwk: PublicJwk): KeyObject {
  const b64 = (value: Buffer | undefined) => {
    assert.ok(value);
    return value.toString('base64url');
  };
  if (jwk.kty === 'RSA')
    return createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) } });
  assert.ok(jwk.crv);
  return createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: CURVES[jwk.crv].nodeJwkCrv, x: b64(jwk.x), y: b64(jwk.y) },
  });
}

async function rejectsBadParameter(promise: Promise<unknown>, pattern?: RegExp): Promise<BadParameterError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof BadParameterError, `expected a BadParameterError, got ${String(caught)}`);
  assert.equal(caught.status, 400);
  assert.equal(caught.code, 'BadParameter');
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

function throwsBadParameter(fn: () => unknown, pattern?: RegExp): BadParameterError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof BadParameterError, `expected a BadParameterError, got ${String(caught)}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

const tamper = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 0x01;
  return copy;
};

// ECDSA over a digest through the openssl command (pkeyutl signs its input as a digest, unhashed): a test
// stand-in for the engine production will use, so that SoftwareKey's ES* path can be checked end to end.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
let engineCalls = 0;
const opensslEcdsa: EcdsaDigestEngine = {
  sign(curve, privateKey, digest) {
    engineCalls++;
    const dir = mkdtempSync(join(work, 'sign-'));
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(join(dir, 'digest'), digest);
    const run = spawnSync('openssl', [
      'pkeyutl',
      '-sign',
      '-inkey',
      join(dir, 'key.pem'),
      '-in',
      join(dir, 'digest'),
      '-out',
      join(dir, 'sig'),
    ]);
    assert.equal(run.status, 0, run.stderr.toString());
    const der = readFileSync(join(dir, 'sig'));
    rmSync(dir, { recursive: true, force: true });
    return derToRaw(der, CURVES[curve].size);
  },
  verify(curve, publicKey, digest, signature) {
    engineCalls++;
    const dir = mkdtempSync(join(work, 'verify-'));
    writeFileSync(join(dir, 'key.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'digest'), digest);
    writeFileSync(join(dir, 'sig'), rawToDer(signature, CURVES[curve].size));
    const run = spawnSync('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      join(dir, 'key.pem'),
      '-in',
      join(dir, 'digest'),
      '-sigfile',
      join(dir, 'sig'),
    ]);
    rmSync(dir, { recursive: true, force: true });
    return run.status === 0;
  },
};

/** ECDSA-Sig-Value DER → r||s. */
function derToRaw(der: Buffer, size: number): Buffer {
  let offset = 2;
  if ((der[1] ?? 0) & 0x80) offset += (der[1] ?? 0) & 0x7f;
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    assert.equal(der[offset], 0x02);
    const length = der[offset + 1] ?? 0;
    let value = der.subarray(offset + 2, offset + 2 + length);
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    parts.push(Buffer.concat([Buffer.alloc(size - value.length), value]));
    offset += 2 + length;
  }
  return Buffer.concat(parts);
}

/** r||s → ECDSA-Sig-Value DER. */
function rawToDer(raw: Buffer, size: number): Buffer {
  const integer = (bytes: Buffer) => {
    let value = bytes;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if ((value[0] ?? 0) & 0x80) value = Buffer.concat([Buffer.from([0]), value]);
    return Buffer.concat([Buffer.from([0x02, value.length]), value]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, size)), integer(raw.subarray(size))]);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

describe('key generation', () => {
  for (const size of RSA_SIZES) {
    it(`makes RSA ${size} keys with e = 65537, a PKCS#8 private part and a public-only JWK`, () => {
      const generated = material(rsaMaterial.get(size));
      assert.equal(generated.kty, 'RSA');
      assert.deepEqual(Object.keys(generated.publicJwk).sort(), ['e', 'kty', 'n']);
      assert.equal(generated.publicJwk.n?.length, size / 8);
      assert.deepEqual(generated.publicJwk.e, Buffer.from([1, 0, 1]));
      const opened = privateKeyFromPkcs8(generated.pkcs8);
      assert.equal(opened.asymmetricKeyDetails?.modulusLength, size);
      const nodeJwk = createPublicKey(opened).export({ format: 'jwk' });
      assert.equal(nodeJwk.n, generated.publicJwk.n?.toString('base64url'));
    });
  }

  for (const curve of CURVE_NAMES) {
    it(`makes ${curve} keys whose public JWK is crv, x, y at the curve's size`, () => {
      const generated = material(ecMaterial.get(curve));
      assert.equal(generated.kty, 'EC');
      assert.deepEqual(Object.keys(generated.publicJwk).sort(), ['crv', 'kty', 'x', 'y']);
      assert.equal(generated.publicJwk.crv, curve);
      assert.equal(generated.publicJwk.x?.length, CURVES[curve].size);
      assert.equal(generated.publicJwk.y?.length, CURVES[curve].size);
      const opened = privateKeyFromPkcs8(generated.pkcs8);
      assert.equal(opened.asymmetricKeyDetails?.namedCurve, CURVES[curve].openssl);
    });
  }

  it('left-pads EC coordinates that start with a zero byte', async () => {
    // A P-521 coordinate's first byte is 0 or 1; P-256 ones start with 0 once in 256.
    let padded = 0;
    for (let i = 0; i < 2000 && padded < 4; i++) {
      const { publicJwk } = await generateEcKey(i % 2 === 0 ? 'P-521' : 'P-256');
      const size = publicJwk.crv === 'P-521' ? 66 : 32;
      assert.equal(publicJwk.x?.length, size);
      assert.equal(publicJwk.y?.length, size);
      if (publicJwk.x?.[0] === 0 || publicJwk.y?.[0] === 0) padded++;
    }
    assert.ok(padded >= 4);
  });

  it('refuses sizes, exponents, curves and key types that software keys do not have', async () => {
    await rejectsBadParameter(generateSoftwareKey({ kty: 'RSA', keySize: 1024 }), /key_size/);
    await rejectsBadParameter(generateSoftwareKey({ kty: 'RSA', keySize: 2049 }), /key_size/);
    await rejectsBadParameter(generateSoftwareKey({ kty: 'RSA', publicExponent: 3 }), /public_exponent/);
    await rejectsBadParameter(generateSoftwareKey({ kty: 'EC', curve: 'P-192' }), /crv/);
    await rejectsBadParameter(generateSoftwareKey({ kty: 'oct' } as never), /kty/);
    const defaults = await generateSoftwareKey({ kty: 'EC' });
    assert.equal(defaults.publicJwk.crv, 'P-256');
  });
});

describe('RSA signatures over a digest', () => {
  for (const size of RSA_SIZES) {
    for (const { alg, hash, pss } of RSA_SIGNATURES) {
      it(`${alg} with RSA ${size}: node verifies what the key signs, and the key verifies what node signs`, async () => {
        const key = rsaKey(size);
        const publicKey = nodePublicKey(key.publicJwk);
        const padding = pss ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
        const saltLength = HASH_BYTES[hash];
        const digest = createHash(hash).update(message).digest();

        const signature = await key.sign(alg, digest);
        assert.equal(signature.length, size / 8);
        assert.ok(nodeVerify(hash, message, { key: publicKey, padding, saltLength }, signature));
        assert.equal(await key.verify(alg, digest, signature), true);
        assert.equal(await key.verify(alg, digest, tamper(signature)), false);
        assert.equal(await key.verify(alg, tamper(digest), signature), false);

        const privateKey = privateKeyFromPkcs8(material(rsaMaterial.get(size)).pkcs8);
        const fromNode = nodeSign(hash, message, { key: privateKey, padding, saltLength });
        assert.equal(await key.verify(alg, digest, fromNode), true);
      });
    }
  }

  it('PS256 signatures are randomised, RS256 ones deterministic', async () => {
    const key = rsaKey(2048);
    const digest = createHash('sha256').update(message).digest();
    assert.notDeepEqual(await key.sign('PS256', digest), await key.sign('PS256', digest));
    assert.deepEqual(await key.sign('RS256', digest), await key.sign('RS256', digest));
  });

  it('verify answers false for a well-formed wrong signature and BadParameter for a malformed one', async () => {
    const key = rsaKey(2048);
    const digest = createHash('sha256').update(message).digest();
    const rs = await key.sign('RS256', digest);
    // A PKCS#1 v1.5 signature is not a PSS one, nor one for another hash.
    assert.equal(await key.verify('PS256', digest, rs), false);
    assert.equal(await key.verify('RS256', digest, Buffer.alloc(256)), false);
    assert.equal(await key.verify('RS256', digest, Buffer.alloc(256, 0xff)), false); // larger than the modulus
    assert.equal(await key.verify('PS256', digest, randomBytes(256)), false);
    await rejectsBadParameter(key.verify('RS256', digest, rs.subarray(1)), /signature must be 256 bytes/);
    await rejectsBadParameter(key.verify('RS256', digest, Buffer.concat([rs, Buffer.alloc(1)])), /signature/);
    await rejectsBadParameter(key.verify('PS256', digest, Buffer.alloc(0)), /signature/);
  });

  it('refuses a digest whose length does not match the algorithm', async () => {
    const key = rsaKey(2048);
    for (const { alg, hash } of RSA_SIGNATURES) {
      const wrong = Buffer.alloc(HASH_BYTES[hash] === 32 ? 48 : 32, 7);
      await rejectsBadParameter(key.sign(alg, wrong), new RegExp(`digest must be ${HASH_BYTES[hash]} bytes`));
      await rejectsBadParameter(key.verify(alg, wrong, Buffer.alloc(256)), /digest/);
    }
    await rejectsBadParameter(key.sign('RS256', Buffer.alloc(0)), /digest/);
    await rejectsBadParameter(key.sign('RS256', message), /digest/);
  });
});

describe('RSA encryption and key wrapping', () => {
  for (const size of RSA_SIZES) {
    for (const [alg, oaepHash] of [
      ['RSA-OAEP', 'sha1'],
      ['RSA-OAEP-256', 'sha256'],
    ] as const) {
      it(`${alg} with RSA ${size}: the key decrypts what node encrypts, node decrypts what the key encrypts`, async () => {
        const key = rsaKey(size);
        const publicKey = nodePublicKey(key.publicJwk);
        const privateKey = privateKeyFromPkcs8(material(rsaMaterial.get(size)).pkcs8);
        const plaintext = randomBytes(32);
        const padding = constants.RSA_PKCS1_OAEP_PADDING;

        const fromNode = publicEncrypt({ key: publicKey, padding, oaepHash }, plaintext);
        assert.deepEqual(await key.decrypt(alg, fromNode), plaintext);
        assert.deepEqual(await key.unwrapKey(alg, fromNode), plaintext);

        const { ciphertext } = await key.encrypt(alg, plaintext);
        assert.equal(ciphertext.length, size / 8);
        assert.deepEqual(privateDecrypt({ key: privateKey, padding, oaepHash }, ciphertext), plaintext);
        const wrapped = await key.wrapKey(alg, plaintext);
        assert.deepEqual(privateDecrypt({ key: privateKey, padding, oaepHash }, wrapped), plaintext);
        assert.deepEqual(await key.unwrapKey(alg, wrapped), plaintext);
      });
    }
  }

  it('RSA-OAEP and RSA-OAEP-256 use MGF1 with their own hash (WebCrypto encrypts, the key decrypts)', async () => {
    const key = rsaKey(2048);
    const spki = nodePublicKey(key.publicJwk).export({ format: 'der', type: 'spki' });
    for (const [alg, hash] of [
      ['RSA-OAEP', 'SHA-1'],
      ['RSA-OAEP-256', 'SHA-256'],
    ] as const) {
      const publicKey = await webcrypto.subtle.importKey('spki', spki, { name: 'RSA-OAEP', hash }, false, [
        'encrypt',
      ]);
      const plaintext = randomBytes(24);
      const ciphertext = Buffer.from(
        await webcrypto.subtle.encrypt({ name: 'RSA-OAEP' }, publicKey, plaintext),
      );
      assert.deepEqual(await key.decrypt(alg, ciphertext), plaintext);
    }
  });

  it('RSA1_5 encrypt and wrapKey produce PKCS#1 v1.5 type 2 blocks', async () => {
    const key = rsaKey(2048);
    const privateKey = privateKeyFromPkcs8(material(rsaMaterial.get(2048)).pkcs8);
    const plaintext = randomBytes(32);
    for (const ciphertext of [
      (await key.encrypt('RSA1_5', plaintext)).ciphertext,
      await key.wrapKey('RSA1_5', plaintext),
    ]) {
      // Opened raw and unpadded here (a test, not a decryption service).
      const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
      assert.equal(block[0], 0);
      assert.equal(block[1], 2);
      const separator = block.indexOf(0, 2);
      assert.ok(separator >= 10);
      assert.ok(!block.subarray(2, separator).includes(0));
      assert.deepEqual(block.subarray(separator + 1), plaintext);
    }
  });

  for (const size of RSA_SIZES) {
    it(`RSA1_5 with RSA ${size}: the key decrypts and unwraps what node encrypts with RSA_PKCS1_PADDING`, async () => {
      const key = rsaKey(size);
      const publicKey = nodePublicKey(key.publicJwk);
      const k = size / 8;
      for (const length of [0, 1, 16, 32, 100, k - 12, k - 11]) {
        const plaintext = randomBytes(length);
        const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, plaintext);
        // Compared without printing either side.
        assert.ok((await key.decrypt('RSA1_5', ciphertext)).equals(plaintext), `decrypt, length ${length}`);
        assert.ok((await key.unwrapKey('RSA1_5', ciphertext)).equals(plaintext), `unwrap, length ${length}`);
      }
      // What the key encrypts and wraps itself, it decrypts and unwraps.
      const secret = randomBytes(32);
      assert.ok(
        (await key.decrypt('RSA1_5', (await key.encrypt('RSA1_5', secret)).ciphertext)).equals(secret),
      );
      assert.ok((await key.unwrapKey('RSA1_5', await key.wrapKey('RSA1_5', secret))).equals(secret));
    });
  }

  it('RSA1_5 decrypt of a right-length ciphertext with bad padding: no error, a deterministic synthetic plaintext (implicit rejection)', async () => {
    const key = rsaKey(2048);
    const publicKey = nodePublicKey(key.publicJwk);
    // A type 1 block (the padding of a signature), then garbage below the modulus.
    const typeOne = Buffer.alloc(256, 0xff);
    typeOne[0] = 0;
    typeOne[1] = 1;
    const bad = [publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, typeOne)];
    for (let i = 0; i < 5; i++) bad.push(randomBytes(256).fill(0, 0, 1));
    const seen = new Set<string>();
    for (const ciphertext of bad) {
      const decrypted = await key.decrypt('RSA1_5', ciphertext);
      assert.ok(decrypted.length <= 256 - 11);
      assert.ok((await key.decrypt('RSA1_5', ciphertext)).equals(decrypted), 'the same answer twice');
      assert.ok((await key.unwrapKey('RSA1_5', ciphertext)).equals(decrypted), 'unwrapKey answers the same');
      // Another instance of the same key (its digest of d made anew) answers the same.
      assert.ok((await rsaKey(2048).decrypt('RSA1_5', ciphertext)).equals(decrypted), 'another instance');
      seen.add(decrypted.toString('hex'));
    }
    assert.equal(seen.size, bad.length, 'each bad ciphertext has a synthetic plaintext of its own');
    // Another key of the same size answers differently for the same bytes.
    const other = SoftwareKey.fromPkcs8((await generateRsaKey(2048)).pkcs8, ALL_OPS);
    const garbage = bad[1];
    assert.ok(garbage);
    assert.ok(!(await other.decrypt('RSA1_5', garbage)).equals(await key.decrypt('RSA1_5', garbage)));
  });

  it('RSA1_5 decrypt still refuses, with BadParameter, a ciphertext of the wrong length or not below the modulus', async () => {
    const key = rsaKey(2048);
    for (const wrong of [randomBytes(255), randomBytes(257), Buffer.alloc(0), randomBytes(512)]) {
      await rejectsBadParameter(key.decrypt('RSA1_5', wrong), /must be 256 bytes/);
      await rejectsBadParameter(key.unwrapKey('RSA1_5', wrong), /must be 256 bytes/);
    }
    const refusal = await rejectsBadParameter(key.decrypt('RSA1_5', Buffer.alloc(256, 0xff)));
    assert.equal(refusal.message, 'The ciphertext could not be decrypted with RSA1_5');
    await rejectsBadParameter(key.unwrapKey('RSA1_5', Buffer.alloc(256, 0xff)));
  });

  it('refuses garbage and wrong-length ciphertext with BadParameter, one message for every failure', async () => {
    const key = rsaKey(2048);
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const) {
      await rejectsBadParameter(key.decrypt(alg, randomBytes(255)), /256 bytes/);
      await rejectsBadParameter(key.unwrapKey(alg, Buffer.alloc(0)), /256 bytes/);
      await rejectsBadParameter(key.decrypt(alg, randomBytes(257)), /256 bytes/);
    }
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256'] as const) {
      const messages = new Set<string>();
      for (const garbage of [randomBytes(256).fill(0, 0, 1), Buffer.alloc(256, 0xff), Buffer.alloc(256)]) {
        messages.add((await rejectsBadParameter(key.decrypt(alg, garbage))).message);
        messages.add((await rejectsBadParameter(key.unwrapKey(alg, garbage))).message);
      }
      assert.deepEqual([...messages], [`The ciphertext could not be decrypted with ${alg}`]);
    }
  });

  it('refuses a value too long for the padding', async () => {
    const key = rsaKey(2048);
    await rejectsBadParameter(key.encrypt('RSA-OAEP-256', Buffer.alloc(191)), /at most 190 bytes/);
    await key.encrypt('RSA-OAEP-256', Buffer.alloc(190));
    await rejectsBadParameter(key.encrypt('RSA-OAEP', Buffer.alloc(215)), /at most 214 bytes/);
    await rejectsBadParameter(key.wrapKey('RSA1_5', Buffer.alloc(246)), /at most 245 bytes/);
    await rejectsBadParameter(key.wrapKey('RSA-OAEP', Buffer.alloc(0)), /empty/);
  });
});

describe('EC signatures over a digest', () => {
  for (const curve of CURVE_NAMES) {
    const { alg, hash } = EC_SIGNATURES[curve];
    const size = CURVES[curve].size;

    it(`${alg} on ${curve}: node verifies what the key signs, the key verifies what node signs`, {
      skip: hasOpenssl ? false : 'no openssl command for the test ECDSA engine',
    }, async () => {
      const key = ecKey(curve, opensslEcdsa);
      const publicKey = nodePublicKey(key.publicJwk);
      const digest = createHash(hash).update(message).digest();

      const signature = await key.sign(alg, digest);
      assert.equal(signature.length, 2 * size);
      assert.ok(nodeVerify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
      assert.equal(await key.verify(alg, digest, signature), true);

      const privateKey = privateKeyFromPkcs8(material(ecMaterial.get(curve)).pkcs8);
      const fromNode = nodeSign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.equal(await key.verify(alg, digest, fromNode), true);
      assert.equal(await key.verify(alg, digest, tamper(fromNode)), false);
      assert.equal(await key.verify(alg, tamper(digest), fromNode), false);
      assert.equal(await key.verify(alg, digest, Buffer.alloc(2 * size)), false); // r = s = 0
      await rejectsBadParameter(
        key.verify(alg, digest, fromNode.subarray(1)),
        new RegExp(`${2 * size} bytes`),
      );
      await rejectsBadParameter(key.verify(alg, digest, rawToDer(fromNode, size)), /signature/);
    });

    it(`${alg} on ${curve}: digest length and curve are checked before any signing`, async () => {
      const calls = engineCalls;
      const key = ecKey(curve, opensslEcdsa);
      await rejectsBadParameter(key.sign(alg, Buffer.alloc(HASH_BYTES[hash] + 1)), /digest must be/);
      await rejectsBadParameter(key.verify(alg, Buffer.alloc(20), Buffer.alloc(2 * size)), /digest must be/);
      for (const other of CURVE_NAMES.filter((c) => c !== curve)) {
        const otherAlg = EC_SIGNATURES[other].alg;
        await rejectsBadParameter(
          key.sign(otherAlg, Buffer.alloc(HASH_BYTES[EC_SIGNATURES[other].hash])),
          /needs a/,
        );
      }
      await rejectsBadParameter(key.sign('RS256', Buffer.alloc(32)), /not valid .* EC key/);
      await rejectsBadParameter(key.encrypt('RSA-OAEP', Buffer.alloc(16)), /not valid .* EC key/);
      await rejectsBadParameter(key.wrapKey('RSA-OAEP-256', Buffer.alloc(16)), /EC key/);
      await rejectsBadParameter(key.decrypt('RSA1_5', Buffer.alloc(16)), /EC key/);
      assert.equal(engineCalls, calls);
    });
  }

  it('without an ECDSA engine, ES* sign and verify are refused with a reason, never faked', async () => {
    const key = ecKey('P-256');
    const digest = createHash('sha256').update(message).digest();
    await rejectsBadParameter(key.sign('ES256', digest), /ES256 sign is not available .* precomputed digest/);
    await rejectsBadParameter(key.verify('ES256', digest, Buffer.alloc(64)), /ES256 verify is not available/);
  });
});

describe('refusals common to every software key', () => {
  it('enforces key_ops', async () => {
    const digest = createHash('sha256').update(message).digest();
    const verifyOnly = rsaKey(2048, ['verify', 'import', 'export']);
    assert.deepEqual(verifyOnly.keyOps, ['verify']);
    await rejectsBadParameter(
      verifyOnly.sign('RS256', digest),
      /^Operation sign is not permitted on this key$/,
    );
    await rejectsBadParameter(
      verifyOnly.encrypt('RSA-OAEP', Buffer.alloc(8)),
      /Operation encrypt is not permitted/,
    );
    await rejectsBadParameter(
      verifyOnly.decrypt('RSA-OAEP', Buffer.alloc(256)),
      /Operation decrypt is not permitted/,
    );
    await rejectsBadParameter(
      verifyOnly.wrapKey('RSA-OAEP', Buffer.alloc(8)),
      /Operation wrapKey is not permitted/,
    );
    await rejectsBadParameter(verifyOnly.unwrapKey('RSA-OAEP', Buffer.alloc(256)), /Operation unwrapKey/);
    const signature = await rsaKey(2048).sign('RS256', digest);
    assert.equal(await verifyOnly.verify('RS256', digest, signature), true);

    const signOnly = rsaKey(2048, ['sign']);
    await rejectsBadParameter(
      signOnly.verify('RS256', digest, signature),
      /Operation verify is not permitted/,
    );
    const none = ecKey('P-256', opensslEcdsa, []);
    await rejectsBadParameter(none.sign('ES256', digest), /Operation sign is not permitted/);
  });

  it('refuses unknown algorithms without echoing them, and algorithms of another key type', async () => {
    const key = rsaKey(2048);
    const digest = Buffer.alloc(32);
    const unknown = await rejectsBadParameter(
      key.sign('XS256<script>' as SignatureAlgorithm, digest),
      /Unknown algorithm/,
    );
    assert.ok(!unknown.message.includes('script'));
    await rejectsBadParameter(key.sign('HS256' as SignatureAlgorithm, digest), /HS256 is not valid/);
    await rejectsBadParameter(key.sign('RSNULL' as SignatureAlgorithm, digest), /RSNULL is not valid/);
    await rejectsBadParameter(key.sign('ES256', digest), /ES256 is not valid .* RSA key/);
    await rejectsBadParameter(key.verify('ES256K', digest, Buffer.alloc(64)), /ES256K is not valid/);
    await rejectsBadParameter(key.encrypt('A256GCM', Buffer.alloc(8)), /A256GCM is not valid/);
    await rejectsBadParameter(key.wrapKey('A128KW', Buffer.alloc(16)), /A128KW is not valid/);
    await rejectsBadParameter(
      key.decrypt('RS256' as EncryptionAlgorithm, Buffer.alloc(256)),
      /RS256 is not valid/,
    );
    await rejectsBadParameter(key.encrypt('constructor' as EncryptionAlgorithm, Buffer.alloc(8)), /Unknown/);
    await rejectsBadParameter(key.sign('toString' as SignatureAlgorithm, digest), /Unknown/);
    await rejectsBadParameter(key.sign(undefined as unknown as SignatureAlgorithm, digest), /Unknown/);
    await rejectsBadParameter(key.sign('RS256', 'digest' as unknown as Buffer), /digest must be bytes/);
  });

  it('never shows private members: not in the public JWK, not when inspected or serialised', () => {
    const all = [
      ...RSA_SIZES.map((size) => rsaMaterial.get(size)),
      ...CURVE_NAMES.map((curve) => ecMaterial.get(curve)),
    ];
    for (const generated of all.map(material)) {
      const key = SoftwareKey.fromPkcs8(generated.pkcs8, ALL_OPS);
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(member in key.publicJwk));
      const secret = privateKeyFromPkcs8(generated.pkcs8).export({ format: 'jwk' }).d;
      assert.ok(secret);
      const shown = `${inspect(key, { depth: 10, showHidden: true })} ${JSON.stringify(key)}`;
      assert.ok(!shown.includes(secret));
      assert.ok(!shown.includes(Buffer.from(secret, 'base64url').toString('hex')));
    }
  });
});

describe('JWK import', () => {
  const nodeRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaJwk = nodeRsa.privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const otherRsaJwk = otherRsa.privateKey.export({ format: 'jwk' }) as Record<string, string>;

  it('imports an RSA JWK exported by node; what the key signs, node verifies with its own public key', async () => {
    const imported = importJwk(rsaJwk);
    assert.equal(imported.kty, 'RSA');
    assert.equal(imported.publicJwk.n?.toString('base64url'), rsaJwk.n);
    assert.deepEqual(Object.keys(imported.publicJwk).sort(), ['e', 'kty', 'n']);
    const key = new SoftwareKey(imported.privateKey, ALL_OPS);
    const digest = createHash('sha256').update(message).digest();
    for (const [alg, padding] of [
      ['RS256', constants.RSA_PKCS1_PADDING],
      ['PS256', constants.RSA_PKCS1_PSS_PADDING],
    ] as const) {
      const signature = await key.sign(alg, digest);
      assert.ok(
        nodeVerify('sha256', message, { key: nodeRsa.publicKey, padding, saltLength: 32 }, signature),
      );
    }
    const reopened = SoftwareKey.fromPkcs8(imported.pkcs8, ['decrypt']);
    const ciphertext = publicEncrypt({ key: nodeRsa.publicKey, oaepHash: 'sha256' }, Buffer.from('wrapped'));
    assert.deepEqual(await reopened.decrypt('RSA-OAEP-256', ciphertext), Buffer.from('wrapped'));
  });

  it('imports the 4096-bit key and accepts padded base64url and leading zero bytes', () => {
    const privateKey = privateKeyFromPkcs8(material(rsaMaterial.get(4096)).pkcs8);
    const jwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const padded = (value: string | undefined) => {
      const bytes = Buffer.concat([Buffer.alloc(1), Buffer.from(value ?? '', 'base64url')]);
      return bytes.toString('base64');
    };
    const withPadding = Object.fromEntries(
      Object.entries(jwk).map(([name, value]) => [
        name,
        name === 'kty' ? value : padded(value).replaceAll('+', '-').replaceAll('/', '_'),
      ]),
    );
    assert.equal(importJwk(withPadding).publicJwk.n?.toString('base64url'), jwk.n);
  });

  for (const curve of CURVE_NAMES) {
    it(`imports a ${curve} JWK exported by node; node verifies what the key signs`, {
      skip: hasOpenssl ? false : 'no openssl command for the test ECDSA engine',
    }, async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: CURVES[curve].openssl });
      const exported = pair.privateKey.export({ format: 'jwk' }) as Record<string, string>;
      const imported = importJwk({ ...exported, crv: curve, key_ops: ['sign'], kid: 'https://x/keys/k/1' });
      assert.equal(imported.publicJwk.crv, curve);
      assert.equal(imported.publicJwk.x?.length, CURVES[curve].size);
      assert.deepEqual(Object.keys(imported.publicJwk).sort(), ['crv', 'kty', 'x', 'y']);
      const key = new SoftwareKey(imported.privateKey, ['sign'], { ecdsa: opensslEcdsa });
      const { alg, hash } = EC_SIGNATURES[curve];
      const signature = await key.sign(alg, createHash(hash).update(message).digest());
      assert.ok(nodeVerify(hash, message, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, signature));
    });
  }

  it('refuses every malformed or inconsistent RSA member, naming it and never quoting it', () => {
    const refuse = (jwk: Record<string, unknown>, member: RegExp) => {
      const error = throwsBadParameter(() => importJwk(jwk), member);
      for (const value of Object.values(jwk)) {
        if (typeof value === 'string' && value.length > 8) assert.ok(!error.message.includes(value));
      }
    };
    for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) {
      const { [member]: _, ...missing } = rsaJwk;
      refuse(missing, new RegExp(`member '${member}' is required`));
      refuse({ ...rsaJwk, [member]: 42 }, new RegExp(`'${member}' must be a base64url string`));
      refuse({ ...rsaJwk, [member]: `${rsaJwk[member]}*` }, new RegExp(`'${member}' is not valid base64url`));
      refuse({ ...rsaJwk, [member]: 'A' }, new RegExp(`'${member}' is not valid base64url`));
      refuse({ ...rsaJwk, [member]: '' }, new RegExp(`'${member}' must not be empty`));
    }
    refuse({ ...rsaJwk, n: `+${rsaJwk.n?.slice(1)}` }, /member 'n' is not valid base64url/);
    refuse({ ...rsaJwk, d: otherRsaJwk.d }, /member 'd' does not match/);
    refuse({ ...rsaJwk, p: otherRsaJwk.p }, /'p' and 'q'/);
    refuse({ ...rsaJwk, q: rsaJwk.p }, /'p' and 'q'/);
    refuse({ ...rsaJwk, dp: otherRsaJwk.dp }, /member 'dp'/);
    refuse({ ...rsaJwk, dq: otherRsaJwk.dq }, /member 'dq'/);
    refuse({ ...rsaJwk, qi: otherRsaJwk.qi }, /member 'qi'/);
    refuse({ ...rsaJwk, e: 'AQAA' }, /member 'e'/);
    refuse({ ...rsaJwk, e: 'AQ' }, /member 'e'/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    refuse(small as Record<string, unknown>, /member 'n' must be a modulus of 2048, 3072, 4096 bits/);
  });

  it('refuses every malformed or inconsistent EC member, naming it and never quoting it', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'jwk',
    });
    const jwk = pair.privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const refuse = (value: Record<string, unknown>, member: RegExp) => {
      const error = throwsBadParameter(() => importJwk(value), member);
      for (const v of Object.values(value))
        if (typeof v === 'string' && v.length > 8) assert.ok(!error.message.includes(v));
    };
    for (const member of ['x', 'y', 'd']) {
      const { [member]: _, ...missing } = jwk;
      refuse(missing, new RegExp(`member '${member}' is required`));
      refuse({ ...jwk, [member]: 'a+b/' }, new RegExp(`'${member}' is not valid base64url`));
      refuse(
        { ...jwk, [member]: randomBytes(33).fill(1, 0, 1).toString('base64url') },
        new RegExp(`'${member}' is longer`),
      );
    }
    const { crv: _, ...noCurve } = jwk;
    refuse(noCurve, /member 'crv' is required/);
    refuse({ ...jwk, crv: 'P-192' }, /member 'crv' must be one of P-256, P-256K, P-384, P-521/);
    refuse({ ...jwk, crv: 'secp256k1' }, /member 'crv'/);
    refuse({ ...jwk, crv: 'P-384' }, /'x' and 'y' do not match 'd'|'d' is not valid/);
    refuse({ ...jwk, d: other.d }, /'x' and 'y' do not match 'd'/);
    refuse({ ...jwk, x: other.x }, /'x' and 'y' do not match 'd'/);
    refuse({ ...jwk, d: Buffer.alloc(32).toString('base64url') }, /member 'd' must not be zero/);
    refuse(
      { ...jwk, d: Buffer.alloc(32, 0xff).toString('base64url') },
      /member 'd' is not a valid P-256 private key/,
    );
  });

  it('refuses oct keys (HSM-only), HSM key types, unknown types and non-objects', () => {
    throwsBadParameter(() => importJwk({ kty: 'oct', k: randomBytes(32).toString('base64url') }), /HSM-only/);
    throwsBadParameter(
      () => importJwk({ kty: 'oct-HSM', k: randomBytes(32).toString('base64url') }),
      /HSM-only/,
    );
    throwsBadParameter(() => importJwk({ ...rsaJwk, kty: 'RSA-HSM' }), /RSA-HSM key is imported into an HSM/);
    throwsBadParameter(() => importJwk({ ...rsaJwk, kty: 'EC-HSM' }), /EC-HSM/);
    throwsBadParameter(() => importJwk({ ...rsaJwk, kty: undefined }), /member 'kty' must be RSA or EC/);
    throwsBadParameter(() => importJwk({ ...rsaJwk, kty: 'OKP' }), /member 'kty'/);
    throwsBadParameter(() => importJwk(null), /JSON web key object/);
    throwsBadParameter(() => importJwk([rsaJwk]), /JSON web key object/);
    throwsBadParameter(() => importJwk('{"kty":"RSA"}'), /JSON web key object/);
  });

  it('what it imports can be sealed and reopened: the PKCS#8 is the same key', () => {
    const imported = importJwk(rsaJwk);
    const reopened = createPrivateKey({ key: imported.pkcs8, format: 'der', type: 'pkcs8' });
    assert.equal((reopened.export({ format: 'jwk' }) as Record<string, string>).d, rsaJwk.d);
  });
});
