/**
 * HSM-protected keys on a real PKCS#11 token: SoftHSM2, with a token of this
 * file's own in a temporary folder. Proves the keys are generated (or
 * imported) inside and cannot leave (DESIGN.md #5), and checks the token's signatures and
 * encryptions independently with node:crypto and the returned public JWKs.
 */
import assert from 'node:assert/strict';
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  verify as nodeVerify,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '#lib/config.ts';
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
  type Pkcs11,
  type Pkcs11Handle,
  Pkcs11Session,
  sharedPkcs11Session,
  slotIdOf,
} from '#lib/keys/hsm/pkcs11-session.ts';
import { ensureSoftHsmToken, type SoftHsmToken } from '#lib/keys/hsm/softhsm-token.ts';
import type { SignatureAlgorithm } from '#lib/keys/key-operations.ts';
import { configuredPkcs11Session } from '#lib/runtime/pkcs11.ts';
import { wrapUnderUntrustedKey } from '../support/hsm-token.ts';

const dir = mkdtempSync(join(tmpdir(), 'arca-pkcs11-'));
const label = 'arca-keystore-test';
const BACKUP_KEY = 'arca-keystore-test-backup';
let token: SoftHsmToken;
let session: Pkcs11Session;
let store: Pkcs11KeyStore;

const sessionOptions = () => ({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin });
const publicKeyOf = (key: GeneratedHsmKey) =>
  createPublicKey({ key: nodeJwkOf(key.publicJwk), format: 'jwk' });

/** A deployed configuration for this file's token (one PIN source is the caller's to add). */
const configWith = (extra: Record<string, string>) =>
  parseConfig({
    ARCA_KEYRING: 'kms',
    ARCA_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/x',
    ARCA_JWKS_URL: 'https://login.example/t/keys',
    ARCA_TENANT_ID: 't',
    ARCA_TOKEN_ISSUER: 'https://login.example/t/v2.0',
    ARCA_CHALLENGE_AUTHORITY: 'https://login.example',
    ARCA_HSM: 'pkcs11',
    ARCA_PKCS11_MODULE: token.modulePath,
    ARCA_PKCS11_TOKEN_LABEL: token.label,
    ...extra,
  });

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
  token = await ensureSoftHsmToken({ dir, label, backupKeyLabel: BACKUP_KEY });
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
    const again = await ensureSoftHsmToken({ dir, label, backupKeyLabel: BACKUP_KEY });
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
      assert.equal(attributes.wrapWithTrusted, true);
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

  it('RSA1_5 with bad padding: a synthetic plaintext, fixed for the key and the ciphertext (implicit rejection)', async () => {
    const hsm = await store.open(key.handle);
    const other = await store.open((await store.generateKey({ kty: 'RSA-HSM', keySize: 2048 })).handle);
    // Below the modulus (first byte 0), so the raw operation succeeds; the padding is noise.
    const garbage = randomBytes(256).fill(0, 0, 1);
    const first = await hsm.decrypt('RSA1_5', garbage);
    assert.ok(first.length <= 256 - 11);
    assert.ok((await hsm.decrypt('RSA1_5', garbage)).equals(first), 'deterministic');
    assert.ok((await hsm.unwrapKey('RSA1_5', garbage)).equals(first), 'unwrapKey alike');
    const another = randomBytes(256).fill(0, 0, 1);
    assert.ok(!(await hsm.decrypt('RSA1_5', another)).equals(first) || first.length === 0);
    assert.ok(
      !(await other.decrypt('RSA1_5', garbage)).equals(first) || first.length === 0,
      'bound to the key',
    );
    // A token without raw RSA falls back to its own PKCS#1 v1.5 decryption, where a bad padding is a 400.
    session.lacks.add('CKM_RSA_X_509');
    try {
      await assert.rejects(hsm.decrypt('RSA1_5', garbage), BadParameterError);
      const plaintext = randomBytes(16);
      const ciphertext = publicEncrypt(
        { key: publicKeyOf(key), padding: constants.RSA_PKCS1_PADDING },
        plaintext,
      );
      assert.deepEqual(await hsm.decrypt('RSA1_5', ciphertext), plaintext);
    } finally {
      session.lacks.delete('CKM_RSA_X_509');
    }
  });

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
      if (algorithm === 'RSA1_5') {
        // Implicit rejection: not an error, and not the plaintext.
        const synthetic = await hsm.decrypt(algorithm, flipped(own.ciphertext, 10));
        assert.ok(!synthetic.equals(Buffer.from('round trip')));
      } else {
        await assert.rejects(
          hsm.decrypt(algorithm, flipped(own.ciphertext, 10)),
          BadParameterError,
          algorithm,
        );
      }
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

describe('keys imported into the token (importKey)', () => {
  const IMPORTED = {
    token: true,
    private: true,
    sensitive: true,
    extractable: false,
    // PKCS#11: the material was once outside the token, so these are false for an imported key.
    alwaysSensitive: false,
    neverExtractable: false,
    wrapWithTrusted: true,
  };
  const AES_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

  /** The labels of every token object of Arca's (public, private and secret). */
  const arcaObjects = () =>
    session.run((p, s) => {
      p.C_FindObjectsInit(s, [{ type: ck.CKA_TOKEN, value: true }]);
      const labels: string[] = [];
      try {
        for (;;) {
          const batch = p.C_FindObjects(s, 64);
          for (const object of batch) {
            const label = String(p.C_GetAttributeValue(s, object, [{ type: ck.CKA_LABEL }])[0]?.value ?? '');
            if (/^arca-[0-9a-f]{32}$/.test(label)) labels.push(label);
          }
          if (batch.length < 64) break;
        }
      } finally {
        p.C_FindObjectsFinal(s);
      }
      return labels.sort();
    });

  /** An attribute of the handle's object of this class. */
  const objectAttribute = (handle: string, cls: number, type: number) =>
    session.run((p, s) => {
      p.C_FindObjectsInit(s, [
        { type: ck.CKA_CLASS, value: cls },
        { type: ck.CKA_LABEL, value: handle },
      ]);
      const object = p.C_FindObjects(s);
      p.C_FindObjectsFinal(s);
      assert.ok(object, 'the object exists');
      return p.C_GetAttributeValue(s, object, [{ type }])[0]?.value as Buffer;
    });

  it('RSA 2048 and 3072: private and public objects, sensitive, and the token signs and decrypts for the original key', async () => {
    for (const modulusLength of [2048, 3072]) {
      const original = generateKeyPairSync('rsa', { modulusLength });
      const jwk = original.privateKey.export({ format: 'jwk' });
      const key = await store.importKey(jwk);
      assert.match(key.handle, /^arca-[0-9a-f]{32}$/);
      assert.equal(key.kty, 'RSA-HSM');
      assert.deepEqual(key.publicJwk.n, Buffer.from(jwk.n as string, 'base64url'));
      assert.deepEqual(key.publicJwk.e, Buffer.from([1, 0, 1]));
      assert.deepEqual(await store.attributes(key.handle), IMPORTED);
      for (const type of [ck.CKA_PRIVATE_EXPONENT, ck.CKA_PRIME_1, ck.CKA_PRIME_2, ck.CKA_COEFFICIENT]) {
        assert.equal(await readRefused(key.handle, [ck.CKO_PRIVATE_KEY], type), 'CKR_ATTRIBUTE_SENSITIVE');
      }
      assert.deepEqual(
        await objectAttribute(key.handle, ck.CKO_PUBLIC_KEY, ck.CKA_PRIVATE),
        Buffer.from([0]),
      );
      assert.equal((await arcaObjects()).filter((l) => l === key.handle).length, 2);

      const hsm = await store.open(key.handle);
      const data = randomBytes(50);
      const digest = createHash('sha256').update(data).digest();
      assert.equal(nodeVerify('sha256', data, original.publicKey, await hsm.sign('RS256', digest)), true);
      const pss = { key: original.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      assert.equal(nodeVerify('sha256', data, pss, await hsm.sign('PS256', digest)), true);
      const secret = randomBytes(32);
      const oaep = { key: original.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING };
      assert.deepEqual(
        await hsm.decrypt('RSA-OAEP', publicEncrypt({ ...oaep, oaepHash: 'sha1' }, secret)),
        secret,
      );
      assert.deepEqual(
        await hsm.unwrapKey('RSA-OAEP-256', publicEncrypt({ ...oaep, oaepHash: 'sha256' }, secret)),
        secret,
      );
      const own = await hsm.encrypt('RSA-OAEP', secret);
      assert.deepEqual(
        privateDecrypt(
          { key: original.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
          own.ciphertext,
        ),
        secret,
      );
    }
  });

  for (const curve of ['P-256', 'P-256K', 'P-384', 'P-521'] as const) {
    it(`EC ${curve}: CKA_EC_POINT as DER, CKA_VALUE sensitive, signatures verify with the original key`, async () => {
      const named = {
        'P-256': 'prime256v1',
        'P-256K': 'secp256k1',
        'P-384': 'secp384r1',
        'P-521': 'secp521r1',
      };
      const original = generateKeyPairSync('ec', { namedCurve: named[curve] });
      const jwk = { ...original.privateKey.export({ format: 'jwk' }), crv: curve, kty: 'EC-HSM' };
      const key = await store.importKey(jwk);
      assert.equal(key.kty, 'EC-HSM');
      assert.equal(key.publicJwk.crv, curve);
      assert.deepEqual(key.publicJwk.x, Buffer.from(jwk.x as string, 'base64url'));
      assert.deepEqual(key.publicJwk.y, Buffer.from(jwk.y as string, 'base64url'));
      assert.deepEqual(await store.attributes(key.handle), IMPORTED);
      assert.equal(
        await readRefused(key.handle, [ck.CKO_PRIVATE_KEY], ck.CKA_VALUE),
        'CKR_ATTRIBUTE_SENSITIVE',
      );
      // The same encoding as a generated key's public object: an OCTET STRING around 04||x||y.
      const size = key.publicJwk.x?.length as number;
      const point = await objectAttribute(key.handle, ck.CKO_PUBLIC_KEY, ck.CKA_EC_POINT);
      const header = size === 66 ? [0x04, 0x81, 133] : [0x04, 1 + 2 * size];
      assert.deepEqual(point.subarray(0, header.length), Buffer.from(header));
      assert.deepEqual(
        point.subarray(header.length),
        Buffer.concat([Buffer.from([4]), key.publicJwk.x as Buffer, key.publicJwk.y as Buffer]),
      );
      const generated = await store.generateKey({ kty: 'EC-HSM', curve });
      const generatedPoint = await objectAttribute(generated.handle, ck.CKO_PUBLIC_KEY, ck.CKA_EC_POINT);
      assert.deepEqual(generatedPoint.subarray(0, header.length), Buffer.from(header));

      const hsm = await store.open(key.handle);
      const algorithm = { 'P-256': 'ES256', 'P-256K': 'ES256K', 'P-384': 'ES384', 'P-521': 'ES512' }[curve];
      const hash = HASH_OF[algorithm as SignatureAlgorithm];
      const data = randomBytes(40);
      const signature = await hsm.sign(
        algorithm as SignatureAlgorithm,
        createHash(hash).update(data).digest(),
      );
      assert.equal(
        nodeVerify(hash, data, { key: original.publicKey, dsaEncoding: 'ieee-p1363' }, signature),
        true,
      );
    });
  }

  for (const bits of [128, 192, 256] as const) {
    it(`oct ${bits} bits: a sensitive AES key that wraps and unwraps as node:crypto does with the original`, async () => {
      const k = randomBytes(bits / 8);
      const key = await store.importKey({ kty: 'oct', k: k.toString('base64url') });
      assert.equal(key.kty, 'oct-HSM');
      assert.deepEqual(key.publicJwk, { kty: 'oct-HSM' });
      assert.deepEqual(await store.attributes(key.handle), IMPORTED);
      assert.equal(
        await readRefused(key.handle, [ck.CKO_SECRET_KEY], ck.CKA_VALUE),
        'CKR_ATTRIBUTE_SENSITIVE',
      );
      assert.equal((await arcaObjects()).filter((l) => l === key.handle).length, 1);
      const hsm = await store.open(key.handle);
      assert.equal(hsm.size, bits / 8);
      const secret = randomBytes(32);
      const cipher = createCipheriv(`id-aes${bits}-wrap`, k, AES_WRAP_IV);
      const nodeWrapped = Buffer.concat([cipher.update(secret), cipher.final()]);
      assert.deepEqual(await hsm.wrapKey(`A${bits}KW`, secret), nodeWrapped);
      assert.deepEqual(await hsm.unwrapKey(`A${bits}KW`, nodeWrapped), secret);
    });
  }

  it('refuses malformed or inconsistent JWKs with BadParameterError, without quoting them, and makes nothing', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
    const ecOther = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'jwk',
    });
    const { q: _q, ...withoutQ } = rsa;
    const { d: _d, ...publicOnly } = ec;
    const before = await arcaObjects();
    const bad: unknown[] = [
      null,
      'a string',
      [],
      {},
      { ...rsa, kty: 'OKP' },
      { ...rsa, d: other.d },
      withoutQ,
      small,
      { ...ec, x: ecOther.x },
      publicOnly,
      { ...ec, crv: 'P-192' },
      { kty: 'oct', k: randomBytes(20).toString('base64url') },
      { kty: 'oct-HSM', k: randomBytes(64).toString('base64url') },
      { kty: 'oct', k: 42 },
      { kty: 'oct', k: '#not base64#' },
      { kty: 'oct' },
      { kty: 'RSA-HSM', key_hsm: randomBytes(64).toString('base64url') },
    ];
    for (const jwk of bad) {
      await assert.rejects(store.importKey(jwk), (error: unknown) => {
        assert.ok(error instanceof BadParameterError, `${JSON.stringify(jwk)?.slice(0, 40)}: ${error}`);
        for (const member of [rsa.d, rsa.p, other.d, ec.d] as string[]) {
          assert.ok(!error.message.includes(member), 'the message quotes no key material');
        }
        return true;
      });
    }
    assert.deepEqual(await arcaObjects(), before, 'nothing was made in the token');
  });

  it('a failure half-way (the second C_CreateObject) destroys the object already made', async () => {
    let calls = 0;
    let failAt = 2;
    const failing = (p: Pkcs11) =>
      new Proxy(p, {
        get(target, property) {
          if (property === 'C_CreateObject') {
            return (s: Pkcs11Handle, template: Parameters<Pkcs11['C_CreateObject']>[1]) => {
              calls++;
              if (calls === failAt) throw new Error('CKR_DEVICE_MEMORY');
              return target.C_CreateObject(s, template);
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const flaky = {
      run: (
        fn: (p: Pkcs11, s: Pkcs11Handle, slot: Pkcs11Handle) => unknown,
        errors?: { operation: string },
      ) => session.run((p, s, slot) => fn(failing(p), s, slot), errors),
      get generation() {
        return session.generation;
      },
    } as unknown as Pkcs11Session;
    const flakyStore = new Pkcs11KeyStore(flaky);
    const before = await arcaObjects();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'jwk' });
    for (const jwk of [rsa, ec]) {
      calls = 0;
      await assert.rejects(flakyStore.importKey(jwk), (error: unknown) => {
        assert.ok(error instanceof ServiceUnavailableError);
        assert.match(error.message, /CKR_DEVICE_MEMORY/);
        return true;
      });
      assert.equal(calls, 2, 'the private object was made, the public one failed');
      assert.deepEqual(await arcaObjects(), before, 'the private object was destroyed again');
    }
    // The first creation failing leaves nothing either; with no failure, the import succeeds.
    calls = 0;
    failAt = 1;
    await assert.rejects(flakyStore.importKey({ kty: 'oct', k: randomBytes(32).toString('base64url') }));
    assert.deepEqual(await arcaObjects(), before);
    calls = 0;
    failAt = 0;
    const imported = await flakyStore.importKey(rsa);
    assert.equal((await arcaObjects()).filter((l) => l === imported.handle).length, 2);
    assert.equal(await store.destroy(imported.handle), true);
  });
});

describe('backup and restore under the trusted backup key (ARCA_PKCS11_BACKUP_KEY)', () => {
  let backupStore: Pkcs11KeyStore;
  before(() => {
    backupStore = new Pkcs11KeyStore(session, { backupKeyLabel: BACKUP_KEY });
  });

  /** Every token object carrying `label`, with its class. */
  /** How many objects of the token match the template. */
  const countObjects = (template: { type: number; value: unknown }[]) =>
    session.run((p, s) => {
      p.C_FindObjectsInit(s, template as Parameters<Pkcs11['C_FindObjectsInit']>[1]);
      try {
        return p.C_FindObjects(s, 4096).length;
      } finally {
        p.C_FindObjectsFinal(s);
      }
    });
  const objectsLabelled = (objectLabel: string) => countObjects([{ type: ck.CKA_LABEL, value: objectLabel }]);

  const wrapUntrusted = (handle: string) => wrapUnderUntrustedKey(session, handle);

  it('the token helper makes one trusted backup key, as the SO, that the user cannot make', async () => {
    assert.equal(await objectsLabelled(BACKUP_KEY), 1, 'made once, found again after');
    const flags = await session.run((p, s) => {
      p.C_FindObjectsInit(s, [{ type: ck.CKA_LABEL, value: BACKUP_KEY }]);
      const [key] = p.C_FindObjects(s, 1);
      p.C_FindObjectsFinal(s);
      return p
        .C_GetAttributeValue(s, key as Pkcs11Handle, [
          { type: ck.CKA_TRUSTED },
          { type: ck.CKA_SENSITIVE },
          { type: ck.CKA_EXTRACTABLE },
          { type: ck.CKA_WRAP },
          { type: ck.CKA_UNWRAP },
          { type: ck.CKA_ENCRYPT },
        ])
        .map((a) => (a.value as Buffer)[0]);
    });
    assert.deepEqual(flags, [1, 1, 0, 1, 1, 0]);
    const userTrusted = await session.run((p, s) => {
      try {
        p.C_GenerateKey(s, { mechanism: ck.CKM_AES_KEY_GEN }, [
          { type: ck.CKA_VALUE_LEN, value: 32 },
          { type: ck.CKA_TOKEN, value: false },
          { type: ck.CKA_TRUSTED, value: true },
        ]);
        return 'made';
      } catch (error) {
        return ckrOf(error);
      }
    });
    assert.equal(
      userTrusted,
      'CKR_ATTRIBUTE_READ_ONLY',
      'the crypto user cannot make a key that may wrap HSM keys',
    );
  });

  it('without a backup key, keys are never extractable and a backup is refused with 400 saying why', async () => {
    const key = await store.generateKey({ kty: 'EC-HSM', curve: 'P-256' });
    assert.equal((await store.attributes(key.handle)).neverExtractable, true);
    await assert.rejects(store.exportForBackup(key.handle), (error: unknown) => {
      assert.ok(error instanceof BadParameterError);
      assert.match(error.message, /ARCA_PKCS11_BACKUP_KEY/);
      return true;
    });
    // Nor does the deployment's backup key get it out: it was made before backups were enabled.
    await assert.rejects(backupStore.exportForBackup(key.handle), (error: unknown) => {
      assert.ok(error instanceof BadParameterError);
      assert.match(error.message, /non-extractable/);
      return true;
    });
    await store.destroy(key.handle);
  });

  const specs: HsmKeySpec[] = [
    { kty: 'RSA-HSM', keySize: 2048 },
    { kty: 'EC-HSM', curve: 'P-256K' },
    { kty: 'EC-HSM', curve: 'P-521' },
    { kty: 'oct-HSM', keySize: 192 },
  ];
  for (const spec of specs) {
    const name = `${spec.kty} ${spec.kty === 'EC-HSM' ? spec.curve : spec.keySize}`;
    it(`${name}: wrappable under the trusted key only; restored from its backup after the original is destroyed`, async () => {
      const original = await backupStore.generateKey(spec);
      assert.deepEqual(await backupStore.attributes(original.handle), {
        token: true,
        private: true,
        sensitive: true,
        extractable: true,
        alwaysSensitive: true,
        neverExtractable: false,
        wrapWithTrusted: true,
      });
      assert.equal(await wrapUntrusted(original.handle), 'CKR_KEY_NOT_WRAPPABLE');
      const secret = spec.kty === 'RSA-HSM' ? ck.CKA_PRIVATE_EXPONENT : ck.CKA_VALUE;
      const cls = spec.kty === 'oct-HSM' ? ck.CKO_SECRET_KEY : ck.CKO_PRIVATE_KEY;
      assert.equal(await readRefused(original.handle, [cls], secret), 'CKR_ATTRIBUTE_SENSITIVE');

      const cek = randomBytes(24);
      const wrappedCek =
        spec.kty === 'oct-HSM'
          ? await (await backupStore.open(original.handle)).wrapKey('A192KW', cek)
          : undefined;
      const backup = await backupStore.exportForBackup(original.handle);
      assert.equal(backup.wrappingKey, BACKUP_KEY);
      assert.ok(!JSON.stringify(backup).includes(cek.toString('base64')));
      assert.equal(await backupStore.destroy(original.handle), true);

      const handle = await backupStore.restoreFromBackup(backup, {
        kty: original.kty,
        publicJwk: original.publicJwk,
      });
      assert.notEqual(handle, original.handle);
      assert.equal(await objectsLabelled(handle), spec.kty === 'oct-HSM' ? 1 : 2);
      const attributes = await backupStore.attributes(handle);
      assert.equal(attributes.sensitive && attributes.extractable && attributes.wrapWithTrusted, true);
      assert.equal(await wrapUntrusted(handle), 'CKR_KEY_NOT_WRAPPABLE');
      const restored = await backupStore.open(handle, spec.kty === 'oct-HSM' ? 24 : undefined);
      if (spec.kty === 'oct-HSM') {
        assert.deepEqual(await restored.unwrapKey('A192KW', wrappedCek as Buffer), cek);
      } else {
        const algorithm: SignatureAlgorithm =
          spec.kty === 'RSA-HSM' ? 'PS256' : spec.curve === 'P-521' ? 'ES512' : 'ES256K';
        const hash = algorithm === 'ES512' ? 'sha512' : 'sha256';
        const digest = createHash(hash).update('restored').digest();
        const signature = await restored.sign(algorithm, digest);
        const verifies = nodeVerify(
          hash,
          Buffer.from('restored'),
          spec.kty === 'RSA-HSM'
            ? { key: publicKeyOf(original), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
            : { key: publicKeyOf(original), dsaEncoding: 'ieee-p1363' },
          signature,
        );
        assert.ok(
          verifies,
          'the restored key is the original: its signature verifies with the original public key',
        );
      }
      // A restored key backs up again.
      assert.equal((await backupStore.exportForBackup(handle)).wrappingKey, BACKUP_KEY);
      await backupStore.destroy(handle);
    });
  }

  it('a changed backup, or one wrapped by another backup key, is a 400 that leaves nothing in the token', async () => {
    const original = await backupStore.generateKey({ kty: 'RSA-HSM', keySize: 2048 });
    const other = await backupStore.generateKey({ kty: 'RSA-HSM', keySize: 2048 });
    const backup = await backupStore.exportForBackup(original.handle);
    const spec = { kty: original.kty, publicJwk: original.publicJwk };
    const tokenObjects = () => countObjects([{ type: ck.CKA_TOKEN, value: true }]);
    const before = await tokenObjects();
    const bytes = Buffer.from(backup.wrapped, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await assert.rejects(
      backupStore.restoreFromBackup({ ...backup, wrapped: bytes.toString('base64') }, spec),
      BadParameterError,
    );
    await assert.rejects(
      backupStore.restoreFromBackup({ ...backup, wrappingKey: 'elsewhere' }, spec),
      (error: unknown) => error instanceof BadParameterError && /elsewhere/.test(error.message),
    );
    // Another key's public part: the unwrapped modulus does not match, and what was made is destroyed.
    await assert.rejects(
      backupStore.restoreFromBackup(backup, { kty: other.kty, publicJwk: other.publicJwk }),
      (error: unknown) => error instanceof BadParameterError && /does not match/.test(error.message),
    );
    assert.equal(await tokenObjects(), before, 'no object of a failed restore is left');
    await backupStore.destroy(original.handle);
    await backupStore.destroy(other.handle);
  });

  it('a backup key missing from the token, or not trusted, is a 503 saying so, not a 500', async () => {
    const elsewhere = new Pkcs11KeyStore(session, { backupKeyLabel: 'no-such-backup-key' });
    const key = await elsewhere.generateKey({ kty: 'EC-HSM', curve: 'P-256' });
    await assert.rejects(
      elsewhere.exportForBackup(key.handle),
      (error: unknown) => error instanceof ServiceUnavailableError && /missing/.test(error.message),
    );
    // A key the crypto user made under that label: not trusted, so not a backup key.
    await session.run((p, s) =>
      p.C_GenerateKey(s, { mechanism: ck.CKM_AES_KEY_GEN }, [
        { type: ck.CKA_VALUE_LEN, value: 32 },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_LABEL, value: 'no-such-backup-key' },
        { type: ck.CKA_WRAP, value: true },
      ]),
    );
    await assert.rejects(
      elsewhere.exportForBackup(key.handle),
      (error: unknown) =>
        error instanceof ServiceUnavailableError && /not marked trusted/.test(error.message),
    );
    await elsewhere.destroy(key.handle);
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

describe('the PIN held in Secrets Manager (ARCA_PKCS11_PIN_SECRET, as deployed)', () => {
  const PIN_SECRET = 'arca/hsm-pin';

  it('fetches the PIN once, when the session is first opened, and logs in with it', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      secretsManager
        .on(GetSecretValueCommand, { SecretId: PIN_SECRET })
        .resolves({ SecretString: `${token.pin}\n` });
      await closeSharedPkcs11Sessions();
      const config = configWith({ ARCA_PKCS11_PIN_SECRET: PIN_SECRET });
      const sessions = await Promise.all([1, 2, 3].map(() => configuredPkcs11Session(config)));
      assert.equal(new Set(sessions).size, 1);
      assert.equal(await configuredPkcs11Session(config), sessions[0]);
      assert.equal(secretsManager.commandCalls(GetSecretValueCommand).length, 1);
      const key = await new Pkcs11KeyStore(sessions[0] as Pkcs11Session).generateKey({
        kty: 'EC-HSM',
        curve: 'P-256',
      });
      assert.match(key.handle, /^arca-[0-9a-f]{32}$/);
    } finally {
      secretsManager.restore();
    }
  });

  it('a secret that cannot be read leaves no session behind, and the next use reads it again', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(
          Object.assign(new Error('denied arn:aws:iam::1:role/x'), { name: 'AccessDeniedException' }),
        )
        .resolves({ SecretString: token.pin });
      await closeSharedPkcs11Sessions();
      const config = configWith({ ARCA_PKCS11_PIN_SECRET: PIN_SECRET });
      await assert.rejects(configuredPkcs11Session(config), (error: unknown) => {
        assert.ok(error instanceof ServiceUnavailableError);
        assert.match(error.message, /AccessDeniedException/);
        assert.doesNotMatch(error.message, /arn:/);
        return true;
      });
      const opened = await configuredPkcs11Session(config);
      assert.equal(secretsManager.commandCalls(GetSecretValueCommand).length, 2);
      session = opened;
      store = new Pkcs11KeyStore(session);
    } finally {
      secretsManager.restore();
    }
  });

  it('the configuration takes exactly one of PIN, PIN file and PIN secret', () => {
    assert.throws(() => configWith({}), /exactly one is required/);
    assert.throws(
      () => configWith({ ARCA_PKCS11_PIN: token.pin, ARCA_PKCS11_PIN_SECRET: PIN_SECRET }),
      /exactly one is required/,
    );
    assert.equal(configWith({ ARCA_PKCS11_PIN_SECRET: PIN_SECRET }).ARCA_PKCS11_PIN_SECRET, PIN_SECRET);
  });
});

describe('the slot (ARCA_PKCS11_SLOT)', () => {
  const slotId = () => slotIdOf(Buffer.from(token.slotId, 'hex'));

  it('opens the token in the configured slot', async () => {
    const config = configWith({ ARCA_PKCS11_PIN: token.pin, ARCA_PKCS11_SLOT: String(slotId()) });
    assert.equal(config.ARCA_PKCS11_SLOT, slotId());
    const inSlot = await configuredPkcs11Session(config);
    const key = await new Pkcs11KeyStore(inSlot).generateKey({ kty: 'EC-HSM', curve: 'P-256' });
    assert.equal(await store.destroy(key.handle), true, 'the same token as the one found by label');
  });

  it('refuses, with 503 naming slot and label, a slot without the token or a token without the label', async () => {
    const options = { modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin };
    await assert.rejects(
      Pkcs11Session.open({ ...options, slotId: slotId() + 7n }),
      (error: unknown) => error instanceof ServiceUnavailableError && /slot/.test(error.message),
    );
    await assert.rejects(
      Pkcs11Session.open({ ...options, tokenLabel: 'another-token', slotId: slotId() }),
      (error: unknown) =>
        error instanceof ServiceUnavailableError &&
        error.message.includes(`slot ${slotId()}`) &&
        /another-token/.test(error.message) &&
        !error.message.includes(token.pin),
    );
  });

  it('takes decimal or 0x hex, and refuses anything else', () => {
    assert.equal(configWith({ ARCA_PKCS11_PIN: token.pin, ARCA_PKCS11_SLOT: '0x10' }).ARCA_PKCS11_SLOT, 16n);
    assert.equal(configWith({ ARCA_PKCS11_PIN: token.pin, ARCA_PKCS11_SLOT: '0' }).ARCA_PKCS11_SLOT, 0n);
    for (const bad of ['slot-1', '-1', '1.5', '0x', '99999999999999999999999']) {
      assert.throws(
        () => configWith({ ARCA_PKCS11_PIN: token.pin, ARCA_PKCS11_SLOT: bad }),
        /ARCA_PKCS11_SLOT/,
        bad,
      );
    }
  });
});
