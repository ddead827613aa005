/**
 * HSM-protected keys on a real PKCS#11 token: SoftHSM2, with a token of this
 * file's own in a temporary folder. Proves the keys are generated inside and
 * cannot leave (DESIGN.md #5), and checks the token's signatures and
 * encryptions independently with node:crypto and the returned public JWKs.
 */
import assert from 'node:assert/strict';
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  verify as nodeVerify,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadParameterError, NotFoundError, ServiceUnavailableError } from '#lib/errors.ts';
import {
  type GeneratedHsmKey,
  type HsmKeySpec,
  nodeJwkOf,
  Pkcs11KeyStore,
} from '#lib/keys/hsm/pkcs11-keystore.ts';
import {
  ck,
  ckrOf,
  closeSharedPkcs11Sessions,
  Pkcs11Session,
  sharedPkcs11Session,
} from '#lib/keys/hsm/pkcs11-session.ts';
import { ensureSoftHsmToken, type SoftHsmToken } from '#lib/keys/hsm/softhsm-token.ts';
import type { SignatureAlgorithm } from '#lib/keys/key-operations.ts';

const dir = mkdtempSync(join(tmpdir(), 'arca-pkcs11-'));
const label = 'arca-keystore-test';
let token: SoftHsmToken;
let session: Pkcs11Session;
let store: Pkcs11KeyStore;

const sessionOptions = () => ({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin });
const publicKeyOf = (key: GeneratedHsmKey) =>
  createPublicKey({ key: nodeJwkOf(key.publicJwk), format: 'jwk' });

/** The token's answer when the private (or secret) key object of `handle` is asked for `type`. */
function readRefused(handle: string, classes: number[], type: number): Promise<string | undefined> {
  return session.run((p, s) => {
    for (const cls of classes) {
      p.C_FindObjectsInit(s, [
        { type: ck.CKA_CLASS, value: cls },
        { type: ck.CKA_LABEL, value: handle },
      ]);
      const object = p.C_FindObjects(s);
      p.C_FindObjectsFinal(s);
      if (object === null) continue;
      try {
        p.C_GetAttributeValue(s, object, [{ type }]);
        return 'disclosed';
      } catch (error) {
        return ckrOf(error);
      }
    }
    return 'not found';
  });
}

before(async () => {
  token = await ensureSoftHsmToken({ dir, label });
  process.env.SOFTHSM2_CONF = token.configPath;
  session = await sharedPkcs11Session(sessionOptions());
  store = new Pkcs11KeyStore(session);
});

after(async () => {
  await closeSharedPkcs11Sessions();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SoftHSM2 token helper', () => {
  it('keeps the PIN in a 0600 file and finds the token again without re-initialising it', async () => {
    assert.equal(token.created, true);
    assert.equal(statSync(join(dir, 'user-pin')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'so-pin')).mode & 0o777, 0o600);
    const again = await ensureSoftHsmToken({ dir, label });
    assert.equal(again.created, false);
    assert.equal(again.pin, token.pin);
    assert.equal(again.slotId, token.slotId);
  });
});

describe('keys generated in the token', () => {
  const specs: HsmKeySpec[] = [
    { kty: 'RSA-HSM', keySize: 2048 },
    { kty: 'RSA-HSM', keySize: 3072 },
    { kty: 'RSA-HSM', keySize: 4096 },
    { kty: 'EC-HSM', curve: 'P-256' },
    { kty: 'EC-HSM', curve: 'P-256K' },
    { kty: 'EC-HSM', curve: 'P-384' },
    { kty: 'EC-HSM', curve: 'P-521' },
    { kty: 'oct-HSM', keySize: 128 },
    { kty: 'oct-HSM', keySize: 192 },
    { kty: 'oct-HSM', keySize: 256 },
  ];
  for (const spec of specs) {
    const name = `${spec.kty} ${spec.kty === 'EC-HSM' ? spec.curve : spec.keySize}`;
    it(`${name}: non-extractable, sensitive, and its secret is refused`, async () => {
      const key = await store.generateKey(spec);
      assert.match(key.handle, /^arca-[0-9a-f]{32}$/);
      assert.equal(key.kty, spec.kty);
      const attributes = await store.attributes(key.handle);
      assert.equal(attributes.extractable, false);
      assert.equal(attributes.sensitive, true);
      assert.equal(attributes.neverExtractable, true);
      assert.equal(attributes.alwaysSensitive, true);
      assert.equal(attributes.token, true);
      assert.equal(attributes.private, true);
      if (spec.kty === 'RSA-HSM') {
        assert.equal(key.publicJwk.n?.length, (spec.keySize ?? 2048) / 8);
        assert.deepEqual(key.publicJwk.e, Buffer.from([1, 0, 1]));
        const refused = await readRefused(key.handle, [ck.CKO_PRIVATE_KEY], ck.CKA_PRIVATE_EXPONENT);
        assert.equal(refused, 'CKR_ATTRIBUTE_SENSITIVE');
        assert.equal(
          await readRefused(key.handle, [ck.CKO_PRIVATE_KEY], ck.CKA_PRIME_1),
          'CKR_ATTRIBUTE_SENSITIVE',
        );
      } else if (spec.kty === 'EC-HSM') {
        assert.equal(key.publicJwk.crv, spec.curve);
        assert.equal(
          await readRefused(key.handle, [ck.CKO_PRIVATE_KEY], ck.CKA_VALUE),
          'CKR_ATTRIBUTE_SENSITIVE',
        );
      } else {
        assert.deepEqual(key.publicJwk, { kty: 'oct-HSM' });
        assert.equal(
          await readRefused(key.handle, [ck.CKO_SECRET_KEY], ck.CKA_VALUE),
          'CKR_ATTRIBUTE_SENSITIVE',
        );
      }
      if (spec.kty !== 'oct-HSM') createPublicKey({ key: nodeJwkOf(key.publicJwk), format: 'jwk' });
    });
  }

  it('a key cannot be wrapped out of the token either', async () => {
    const rsa = await store.generateKey({ kty: 'RSA-HSM' });
    const aes = await store.generateKey({ kty: 'oct-HSM' });
    const answer = await session.run((p, s) => {
      const find = (cls: number, handle: string) => {
        p.C_FindObjectsInit(s, [
          { type: ck.CKA_CLASS, value: cls },
          { type: ck.CKA_LABEL, value: handle },
        ]);
        const object = p.C_FindObjects(s);
        p.C_FindObjectsFinal(s);
        assert.ok(object);
        return object;
      };
      try {
        p.C_WrapKey(
          s,
          { mechanism: ck.CKM_AES_KEY_WRAP_PAD },
          find(ck.CKO_SECRET_KEY, aes.handle),
          find(ck.CKO_PRIVATE_KEY, rsa.handle),
          Buffer.alloc(4096),
        );
        return 'wrapped';
      } catch (error) {
        return ckrOf(error);
      }
    });
    assert.equal(answer, 'CKR_KEY_UNEXTRACTABLE');
  });

  it('refuses sizes and curves Key Vault does not have', async () => {
    await assert.rejects(store.generateKey({ kty: 'RSA-HSM', keySize: 1024 }), BadParameterError);
    await assert.rejects(store.generateKey({ kty: 'oct-HSM', keySize: 512 }), BadParameterError);
    await assert.rejects(store.generateKey({ kty: 'EC-HSM', curve: 'P-224' as never }), BadParameterError);
  });
});

const HASH_OF: Record<SignatureAlgorithm, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES256K: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

function flipped(bytes: Buffer, at = bytes.length - 1): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

describe('RSA-HSM', () => {
  let key: GeneratedHsmKey;
  before(async () => {
    key = await store.generateKey({ kty: 'RSA-HSM', keySize: 2048 });
  });

  for (const algorithm of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
    it(`${algorithm} signatures verify with node:crypto, and a tampered one does not`, async () => {
      const hsm = await store.open(key.handle);
      const data = randomBytes(100);
      const hash = HASH_OF[algorithm];
      const digest = createHash(hash).update(data).digest();
      const signature = await hsm.sign(algorithm, digest);
      assert.equal(signature.length, 256);
      const options = algorithm.startsWith('PS')
        ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { padding: constants.RSA_PKCS1_PADDING };
      const publicKey = { key: publicKeyOf(key), ...options };
      assert.equal(nodeVerify(hash, data, publicKey, signature), true);
      assert.equal(nodeVerify(hash, data, publicKey, flipped(signature)), false);
      if (algorithm.startsWith('PS')) {
        // PSS: the salt is as long as the hash, exactly.
        assert.equal(nodeVerify(hash, data, { ...publicKey, saltLength: digest.length }, signature), true);
      }
      assert.equal(await hsm.verify(algorithm, digest, signature), true);
      assert.equal(await hsm.verify(algorithm, digest, flipped(signature)), false);
      assert.equal(await hsm.verify(algorithm, flipped(digest), signature), false);
      assert.equal(await hsm.verify(algorithm, digest, signature.subarray(1)), false);
    });
  }

  it('decrypts what node:crypto encrypts with the public JWK (RSA-OAEP, RSA-OAEP-256, RSA1_5)', async () => {
    const hsm = await store.open(key.handle);
    const cases = [
      { algorithm: 'RSA-OAEP', padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      { algorithm: 'RSA-OAEP-256', padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      { algorithm: 'RSA1_5', padding: constants.RSA_PKCS1_PADDING },
    ] as const;
    for (const { algorithm, ...padding } of cases) {
      for (const plaintext of [randomBytes(32), Buffer.alloc(0), Buffer.from('a message')]) {
        const ciphertext = publicEncrypt({ key: publicKeyOf(key), ...padding }, plaintext);
        assert.deepEqual(await hsm.decrypt(algorithm, ciphertext), plaintext, algorithm);
        assert.deepEqual(await hsm.unwrapKey(algorithm, ciphertext), plaintext, algorithm);
      }
      const own = await hsm.encrypt(algorithm, Buffer.from('round trip'));
      assert.deepEqual(await hsm.decrypt(algorithm, own.ciphertext), Buffer.from('round trip'));
      const wrapped = await hsm.wrapKey(algorithm, randomBytes(32));
      assert.equal((await hsm.unwrapKey(algorithm, wrapped)).length, 32);
      await assert.rejects(hsm.decrypt(algorithm, flipped(own.ciphertext, 10)), BadParameterError, algorithm);
      await assert.rejects(hsm.decrypt(algorithm, own.ciphertext.subarray(1)), BadParameterError, algorithm);
    }
    await assert.rejects(hsm.encrypt('RSA-OAEP', randomBytes(256 - 41)), BadParameterError);
    // The largest plaintexts, and a ciphertext of one OAEP hash opened as the other.
    for (const [algorithm, oaepHash, max] of [
      ['RSA-OAEP', 'sha1', 256 - 42],
      ['RSA-OAEP-256', 'sha256', 256 - 66],
    ] as const) {
      const plaintext = randomBytes(max);
      const ciphertext = publicEncrypt({ key: publicKeyOf(key), oaepHash }, plaintext);
      assert.deepEqual(await hsm.decrypt(algorithm, ciphertext), plaintext);
      await assert.rejects(
        hsm.decrypt(algorithm === 'RSA-OAEP' ? 'RSA-OAEP-256' : 'RSA-OAEP', ciphertext),
        BadParameterError,
      );
      await assert.rejects(hsm.encrypt(algorithm, randomBytes(max + 1)), BadParameterError);
    }
  });

  it('refuses a digest of the wrong length, and algorithms of other key types', async () => {
    const hsm = await store.open(key.handle);
    await assert.rejects(hsm.sign('RS256', randomBytes(20)), BadParameterError);
    await assert.rejects(hsm.sign('PS512', randomBytes(32)), BadParameterError);
    await assert.rejects(hsm.verify('RS384', randomBytes(32), randomBytes(256)), BadParameterError);
    await assert.rejects(hsm.sign('ES256', randomBytes(32)), BadParameterError);
    await assert.rejects(hsm.encrypt('A256GCM', randomBytes(32)), BadParameterError);
    await assert.rejects(hsm.sign('XS256' as never, randomBytes(32)), BadParameterError);
    // The session is still good after the refusals.
    const digest = randomBytes(32);
    assert.equal(await hsm.verify('RS256', digest, await hsm.sign('RS256', digest)), true);
  });
});

describe('EC-HSM', () => {
  const cases = [
    { curve: 'P-256', algorithm: 'ES256', size: 32 },
    { curve: 'P-256K', algorithm: 'ES256K', size: 32 },
    { curve: 'P-384', algorithm: 'ES384', size: 48 },
    { curve: 'P-521', algorithm: 'ES512', size: 66 },
  ] as const;
  for (const { curve, algorithm, size } of cases) {
    it(`${algorithm} on ${curve}: raw r||s signatures verify with node:crypto, a tampered one does not`, async () => {
      const key = await store.generateKey({ kty: 'EC-HSM', curve });
      assert.equal(key.publicJwk.x?.length, size);
      assert.equal(key.publicJwk.y?.length, size);
      const hsm = await store.open(key.handle);
      const data = randomBytes(64);
      const hash = HASH_OF[algorithm];
      const digest = createHash(hash).update(data).digest();
      const signature = await hsm.sign(algorithm, digest);
      assert.equal(signature.length, 2 * size);
      const publicKey = { key: publicKeyOf(key), dsaEncoding: 'ieee-p1363' as const };
      assert.equal(nodeVerify(hash, data, publicKey, signature), true);
      assert.equal(nodeVerify(hash, data, publicKey, flipped(signature, 5)), false);
      assert.equal(await hsm.verify(algorithm, digest, signature), true);
      assert.equal(await hsm.verify(algorithm, digest, flipped(signature, 5)), false);
      assert.equal(await hsm.verify(algorithm, digest, signature.subarray(2)), false);
      await assert.rejects(hsm.sign(algorithm, randomBytes(size + 1)), BadParameterError);
      await assert.rejects(hsm.sign(algorithm === 'ES384' ? 'ES256' : 'ES384', digest), BadParameterError);
      await assert.rejects(hsm.encrypt('RSA-OAEP', randomBytes(16)), BadParameterError);
    });
  }
});

describe('oct-HSM', () => {
  for (const bits of [128, 192, 256] as const) {
    it(`A${bits}KW wraps and unwraps (RFC 3394), and a tampered wrapped key is refused`, async () => {
      const key = await store.generateKey({ kty: 'oct-HSM', keySize: bits });
      const hsm = await store.open(key.handle);
      const kw = `A${bits}KW` as const;
      for (const length of [16, 24, 32, 64]) {
        const secret = randomBytes(length);
        const wrapped = await hsm.wrapKey(kw, secret);
        assert.equal(wrapped.length, length + 8);
        assert.deepEqual(await hsm.unwrapKey(kw, wrapped), secret);
        await assert.rejects(hsm.unwrapKey(kw, flipped(wrapped, 3)), BadParameterError);
      }
      await assert.rejects(hsm.wrapKey(kw, randomBytes(20)), BadParameterError);
      await assert.rejects(hsm.wrapKey(kw, randomBytes(8)), BadParameterError);
      await assert.rejects(hsm.unwrapKey(kw, randomBytes(20)), BadParameterError);
      const other = bits === 128 ? 'A256KW' : 'A128KW';
      await assert.rejects(hsm.wrapKey(other, randomBytes(16)), BadParameterError);
    });

    it(`A${bits}GCM round trips, and a tampered tag, ciphertext or aad is refused`, async () => {
      const key = await store.generateKey({ kty: 'oct-HSM', keySize: bits });
      const hsm = await store.open(key.handle);
      const gcm = `A${bits}GCM` as const;
      const plaintext = randomBytes(77);
      const aad = Buffer.from('vault/keys/name/version');
      const sealed = await hsm.encrypt(gcm, plaintext, { aad });
      assert.equal(sealed.iv?.length, 12);
      assert.equal(sealed.tag?.length, 16);
      assert.equal(sealed.ciphertext.length, plaintext.length);
      const { iv, tag } = sealed as { iv: Buffer; tag: Buffer };
      assert.deepEqual(await hsm.decrypt(gcm, sealed.ciphertext, { iv, tag, aad }), plaintext);
      await assert.rejects(
        hsm.decrypt(gcm, sealed.ciphertext, { iv, tag: flipped(tag), aad }),
        BadParameterError,
      );
      await assert.rejects(hsm.decrypt(gcm, flipped(sealed.ciphertext), { iv, tag, aad }), BadParameterError);
      await assert.rejects(hsm.decrypt(gcm, sealed.ciphertext, { iv, tag }), BadParameterError);
      await assert.rejects(hsm.decrypt(gcm, sealed.ciphertext, { iv }), BadParameterError);
      const noAad = await hsm.encrypt(gcm, Buffer.alloc(0), { iv: randomBytes(12) });
      assert.deepEqual(
        await hsm.decrypt(gcm, noAad.ciphertext, { iv: noAad.iv, tag: noAad.tag }),
        Buffer.alloc(0),
      );
      await assert.rejects(hsm.encrypt(gcm, plaintext, { iv: randomBytes(16) }), BadParameterError);
      await assert.rejects(hsm.sign('ES256', randomBytes(32)), BadParameterError);
      await assert.rejects(hsm.wrapKey(gcm, randomBytes(32)), BadParameterError);
    });
  }

  it('AES key wrap matches RFC 3394 as node:crypto computes it', async () => {
    // A session-only AES key of known value (tests only), used through the same code path.
    const value = randomBytes(32);
    const handle = `arca-${randomBytes(16).toString('hex')}`;
    await session.run((p, s) =>
      p.C_CreateObject(s, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_PRIVATE, value: true },
        { type: ck.CKA_LABEL, value: handle },
        { type: ck.CKA_ID, value: Buffer.from(handle.slice(5), 'hex') },
        { type: ck.CKA_VALUE, value },
        { type: ck.CKA_WRAP, value: true },
        { type: ck.CKA_UNWRAP, value: true },
        { type: ck.CKA_ENCRYPT, value: true },
        { type: ck.CKA_DECRYPT, value: true },
      ]),
    );
    const hsm = await store.open(handle);
    const secret = randomBytes(32);
    const cipher = createCipheriv('id-aes256-wrap', value, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    assert.deepEqual(
      await hsm.wrapKey('A256KW', secret),
      Buffer.concat([cipher.update(secret), cipher.final()]),
    );
    const gcm = await hsm.encrypt('A256GCM', secret, { aad: Buffer.from('aad') });
    const reference = createCipheriv('aes-256-gcm', value, gcm.iv as Buffer).setAAD(Buffer.from('aad'));
    assert.deepEqual(Buffer.concat([reference.update(secret), reference.final()]), gcm.ciphertext);
    assert.deepEqual(reference.getAuthTag(), gcm.tag);
    assert.equal(await store.destroy(handle), true);
  });
});

describe('handles across sessions', () => {
  it('a new session finds the key by its handle; a wrong PIN is refused without being quoted', async () => {
    const key = await store.generateKey({ kty: 'EC-HSM', curve: 'P-256' });
    await closeSharedPkcs11Sessions();

    const wrongPin = 'not-the-pin-1234';
    const refused = await Pkcs11Session.open({ ...sessionOptions(), pin: wrongPin }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ServiceUnavailableError);
    assert.match(refused.message, /CKR_PIN_INCORRECT/);
    assert.doesNotMatch(refused.message, new RegExp(wrongPin));
    assert.doesNotMatch(refused.message, new RegExp(token.pin));

    session = await sharedPkcs11Session(sessionOptions());
    store = new Pkcs11KeyStore(session);
    const hsm = await store.open(key.handle);
    assert.deepEqual(hsm.publicJwk, key.publicJwk);
    const data = randomBytes(32);
    const signature = await hsm.sign('ES256', createHash('sha256').update(data).digest());
    assert.equal(
      nodeVerify('sha256', data, { key: publicKeyOf(key), dsaEncoding: 'ieee-p1363' }, signature),
      true,
    );
  });

  it('a session left busy is replaced, and the next operation works', async () => {
    const key = await store.generateKey({ kty: 'EC-HSM', curve: 'P-384' });
    const hsm = await store.open(key.handle);
    const generation = session.generation;
    // An operation begun and never finished: the token refuses everything else on the session.
    await session.run((p, s) => {
      p.C_DigestInit(s, { mechanism: ck.CKM_SHA256 });
    });
    await assert.rejects(hsm.sign('ES384', randomBytes(48)), ServiceUnavailableError);
    const digest = randomBytes(48);
    assert.equal(await hsm.verify('ES384', digest, await hsm.sign('ES384', digest)), true);
    assert.equal(session.generation, generation + 1);
  });

  it('destroy purges the key; opening it then is KeyNotFound', async () => {
    const key = await store.generateKey({ kty: 'RSA-HSM' });
    const hsm = await store.open(key.handle);
    assert.equal(await store.destroy(key.handle), true);
    assert.equal(await store.destroy(key.handle), false);
    await assert.rejects(store.open(key.handle), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.code, 'KeyNotFound');
      return true;
    });
    await assert.rejects(hsm.sign('RS256', randomBytes(32)), NotFoundError);
    await assert.rejects(store.open('not-a-handle'), BadParameterError);
  });
});
