import assert from 'node:assert/strict';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type {
  AesGcmEncryptionAlgorithm,
  KeyClient,
  KeyVaultKey,
  KeyWrapAlgorithm,
  SignatureAlgorithm,
} from '@azure/keyvault-keys';
import { openFixtureToken } from '../support/hsm-token.ts';
import {
  assertPublicOnly,
  nodeEcKey,
  nodeRsaKey,
  publicKeyOf,
  requestRecorder,
  type SoftwareCurve,
  sdkJwkOf,
} from '../support/keys.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';
import { cryptoOnlyPrincipal } from '../support/remote-crypto.ts';

/**
 * Every algorithm of every key type through unmodified CryptographyClients,
 * on the software tier (RSA, EC) and the HSM tier (RSA-HSM, EC-HSM, oct-HSM on
 * SoftHSM2), each result checked by node:crypto on its own: node encrypts with
 * the public JWK and the vault decrypts; the vault signs and node verifies.
 *
 * Which side does the work: a CryptographyClient that can read the key does
 * RSA1_5 and RSA-OAEP encrypt and wrapKey itself, with the public key, even
 * when built from a key id (it fetches the key first). A principal that may
 * use the key but not read it makes the same SDK send everything to the
 * vault; a recording pipeline policy shows which requests went out.
 */

type Fixture = Awaited<ReturnType<typeof localVaultFixture>>;
type Hash = 'sha256' | 'sha384' | 'sha512';

const RSA_SIZES = [2048, 3072, 4096] as const;
const RSA_ENCRYPTION = ['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256'] as const;
const RSA_SIGNATURES: Record<string, Hash> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
};
const EC_CURVES: Record<SoftwareCurve, { alg: SignatureAlgorithm; hash: Hash; size: number }> = {
  'P-256': { alg: 'ES256', hash: 'sha256', size: 32 },
  'P-256K': { alg: 'ES256K', hash: 'sha256', size: 32 },
  'P-384': { alg: 'ES384', hash: 'sha384', size: 48 },
  'P-521': { alg: 'ES512', hash: 'sha512', size: 66 },
};

/** Node's padding for an RSA encryption algorithm. */
function nodeRsaEncryption(alg: (typeof RSA_ENCRYPTION)[number]) {
  return alg === 'RSA1_5'
    ? { padding: constants.RSA_PKCS1_PADDING }
    : { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSA-OAEP' ? 'sha1' : 'sha256' };
}

/** Node's options to verify (or make) an RSA signature of an algorithm; PSS salt = hash length (RFC 7518). */
function nodeRsaSignature(alg: string, key: KeyObject) {
  return alg.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

/**
 * PKCS#1 v1.5 decryption by hand, with the raw RSA operation of node (which
 * refuses RSA_PKCS1_PADDING for private decryption on this Node): fine in a
 * test, which holds the private key anyway.
 */
function pkcs1v15Decrypt(privateKey: KeyObject, ciphertext: Uint8Array): Buffer {
  const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  assert.equal(em[0], 0);
  assert.equal(em[1], 2);
  const separator = em.indexOf(0, 2);
  assert.ok(separator >= 10, 'at least 8 bytes of non-zero padding');
  return em.subarray(separator + 1);
}

const digestOf = (hash: Hash, message: Buffer) => createHash(hash).update(message).digest();

describe('keys: cryptography through the CryptographyClient, checked by node:crypto', () => {
  let fixture: Fixture;
  let keys: KeyClient;
  let remote: Awaited<ReturnType<typeof cryptoOnlyPrincipal>>;

  before(async () => {
    fixture = await localVaultFixture();
    keys = fixture.keyClient();
    // The dev vault switches to access policies; the dev client keeps every permission.
    remote = await cryptoOnlyPrincipal(fixture);
  });
  after(() => fixture.close());

  /** The CryptographyClient of a principal that cannot read the key: every call goes to the vault. */
  const served = (key: KeyVaultKey) => {
    const recorder = requestRecorder();
    const client = remote.cryptoClient(key.id as string, { additionalPolicies: [recorder.policy] });
    return { client, recorder };
  };

  for (const hsm of [false, true]) {
    const kty = hsm ? 'RSA-HSM' : 'RSA';
    describe(`${kty}`, () => {
      for (const size of RSA_SIZES) {
        let key: KeyVaultKey;
        let pub: KeyObject;
        before(async () => {
          key = await keys.createRsaKey(`rsa-${hsm ? 'hsm' : 'sw'}-${size}`, { keySize: size, hsm });
          pub = publicKeyOf(key);
        });

        it(`${kty} ${size}: a public JWK of the right size`, () => {
          assert.equal(key.keyType, kty);
          assertPublicOnly(key.key);
          assert.equal(key.key?.n?.length, size / 8);
          assert.deepEqual(Buffer.from(key.key?.e ?? []), Buffer.from([1, 0, 1]));
          assert.equal(pub.asymmetricKeyDetails?.modulusLength, size);
        });

        it(`${kty} ${size}: the vault signs RS256..PS512 and node verifies; the vault verifies its own`, async () => {
          const message = randomBytes(100);
          const crypto = fixture.cryptoClient(key);
          for (const [alg, hash] of Object.entries(RSA_SIGNATURES)) {
            const digest = digestOf(hash, message);
            const signed = await crypto.sign(alg as SignatureAlgorithm, digest);
            assert.equal(signed.keyID, key.id);
            assert.equal(signed.result.length, size / 8, alg);
            assert.ok(
              verify(hash, message, nodeRsaSignature(alg, pub), signed.result),
              `node verifies ${alg}`,
            );
            assert.equal(
              (await crypto.verify(alg as SignatureAlgorithm, digest, signed.result)).result,
              true,
            );
            const tampered = Buffer.from(signed.result);
            tampered[10] = (tampered[10] ?? 0) ^ 1;
            assert.equal((await crypto.verify(alg as SignatureAlgorithm, digest, tampered)).result, false);
            const otherDigest = digestOf(hash, Buffer.from('another message'));
            assert.equal(
              (await crypto.verify(alg as SignatureAlgorithm, otherDigest, signed.result)).result,
              false,
            );
          }
        });

        it(`${kty} ${size}: node encrypts with the public JWK, the vault decrypts and unwraps`, async () => {
          const { client, recorder } = served(key);
          for (const alg of RSA_ENCRYPTION) {
            const secret = randomBytes(32);
            // RSA1_5: PKCS#1 v1.5 decryption with implicit rejection (as OpenSSL >= 3.2), on both tiers.
            const ciphertext = publicEncrypt({ key: pub, ...nodeRsaEncryption(alg) }, secret);
            const decrypted = await client.decrypt({ algorithm: alg, ciphertext });
            assert.deepEqual(Buffer.from(decrypted.result), secret, alg);
            assert.equal(decrypted.keyID, key.id);
            const unwrapped = await client.unwrapKey(alg, ciphertext);
            assert.deepEqual(Buffer.from(unwrapped.result), secret, alg);
          }
          assert.ok(recorder.served('decrypt').length > 0 && recorder.served('unwrapkey').length > 0);
        });

        it(`${kty} ${size}: RSA1_5 with bad padding is not an error but a synthetic plaintext, the same each time`, async () => {
          const { client } = served(key);
          // Below the modulus, so the raw operation succeeds; its padding is noise.
          const garbage = randomBytes(size / 8).fill(0, 0, 1);
          const first = Buffer.from(
            (await client.decrypt({ algorithm: 'RSA1_5', ciphertext: garbage })).result,
          );
          const again = Buffer.from(
            (await client.decrypt({ algorithm: 'RSA1_5', ciphertext: garbage })).result,
          );
          const unwrapped = Buffer.from((await client.unwrapKey('RSA1_5', garbage)).result);
          assert.ok(first.length <= size / 8 - 11);
          assert.ok(again.equals(first) && unwrapped.equals(first), 'deterministic');
        });

        it(`${kty} ${size}: the vault encrypts and wraps, and decrypts what it made`, async () => {
          const { client, recorder } = served(key);
          for (const alg of RSA_ENCRYPTION) {
            const secret = randomBytes(24);
            const encrypted = await client.encrypt({ algorithm: alg, plaintext: secret });
            const wrapped = await client.wrapKey(alg, secret);
            for (const result of [encrypted, wrapped]) {
              assert.equal(result.result.length, size / 8);
              assert.equal(result.keyID, key.id);
            }
            assert.deepEqual(
              Buffer.from((await client.decrypt({ algorithm: alg, ciphertext: encrypted.result })).result),
              secret,
            );
            assert.deepEqual(Buffer.from((await client.unwrapKey(alg, wrapped.result)).result), secret);
          }
          assert.equal(recorder.served('encrypt').length > 0, true, 'encrypt was served by the vault');
          assert.equal(recorder.served('wrapkey').length > 0, true, 'wrapKey was served by the vault');
        });
      }

      it(`${kty}: a client that can read the key encrypts RSA1_5 and RSA-OAEP itself, RSA-OAEP-256 in the vault`, async () => {
        const key = await keys.getKey(`rsa-${hsm ? 'hsm' : 'sw'}-2048`);
        const recorder = requestRecorder();
        const client = fixture.cryptoClient(key.id as string, { additionalPolicies: [recorder.policy] });
        const went: Record<string, number> = {};
        for (const alg of RSA_ENCRYPTION) {
          recorder.clear();
          const result = await client.encrypt({ algorithm: alg, plaintext: Buffer.from('x') });
          assert.equal(result.result.length, 256);
          went[alg] = recorder.served('encrypt').length;
        }
        assert.deepEqual(went, { RSA1_5: 0, 'RSA-OAEP': 0, 'RSA-OAEP-256': 1 });
        recorder.clear();
        await client.wrapKey('RSA-OAEP', randomBytes(32));
        assert.deepEqual(recorder.served('wrapkey'), [], 'RSA-OAEP wrapKey was done by the SDK too');
        assert.equal((await client.verify('RS256', Buffer.alloc(32), Buffer.alloc(256))).result, false);
        assert.equal(recorder.served('verify').length, 1, 'verify is always the vault');
      });
    });
  }

  describe('RSA, imported from node: what the vault encrypts and signs, node decrypts and verifies', () => {
    for (const size of RSA_SIZES) {
      it(`RSA ${size}`, async () => {
        const local = nodeRsaKey(size);
        const key = await keys.importKey(`rsa-imported-${size}`, sdkJwkOf(local.jwk));
        assertPublicOnly(key.key);
        const { client, recorder } = served(key);
        for (const alg of RSA_ENCRYPTION) {
          const secret = randomBytes(32);
          for (const result of [
            await client.encrypt({ algorithm: alg, plaintext: secret }),
            await client.wrapKey(alg, secret),
          ]) {
            const opened =
              alg === 'RSA1_5'
                ? pkcs1v15Decrypt(local.privateKey, result.result)
                : privateDecrypt({ key: local.privateKey, ...nodeRsaEncryption(alg) }, result.result);
            assert.deepEqual(opened, secret, alg);
          }
        }
        assert.ok(recorder.served('encrypt').length > 0 && recorder.served('wrapkey').length > 0);
        const message = randomBytes(64);
        for (const [alg, hash] of Object.entries(RSA_SIGNATURES)) {
          const nodeSignature = sign(hash, message, nodeRsaSignature(alg, local.privateKey));
          const digest = digestOf(hash, message);
          const verified = await client.verify(alg as SignatureAlgorithm, digest, nodeSignature);
          assert.equal(verified.result, true, `the vault verifies node's ${alg}`);
          const vaultSignature = (await client.sign(alg as SignatureAlgorithm, digest)).result;
          assert.ok(verify(hash, message, nodeRsaSignature(alg, local.publicKey), vaultSignature), alg);
        }
      });
    }
  });

  for (const hsm of [false, true]) {
    const kty = hsm ? 'EC-HSM' : 'EC';
    describe(kty, () => {
      for (const [curve, { alg, hash, size }] of Object.entries(EC_CURVES) as [
        SoftwareCurve,
        (typeof EC_CURVES)[SoftwareCurve],
      ][]) {
        it(`${kty} ${curve}: the vault signs ${alg} as raw r||s and node verifies; the vault verifies`, async () => {
          const key = await keys.createEcKey(`ec-${hsm ? 'hsm' : 'sw'}-${curve}`, { curve, hsm });
          assert.equal(key.keyType, kty);
          assert.equal(key.key?.crv, curve);
          assertPublicOnly(key.key);
          assert.equal(key.key?.x?.length, size);
          assert.equal(key.key?.y?.length, size);
          const pub = publicKeyOf(key);
          const { client, recorder } = served(key);
          const message = randomBytes(80);
          const digest = digestOf(hash, message);
          const signed = await client.sign(alg, digest);
          assert.equal(signed.result.length, 2 * size, 'r||s, each half the curve size');
          assert.ok(
            verify(hash, message, { key: pub, dsaEncoding: 'ieee-p1363' }, signed.result),
            'node verifies',
          );
          assert.equal((await client.verify(alg, digest, signed.result)).result, true);
          const tampered = Buffer.from(signed.result);
          tampered[3] = (tampered[3] ?? 0) ^ 0x80;
          assert.equal((await client.verify(alg, digest, tampered)).result, false);
          assert.equal(
            (await client.verify(alg, digestOf(hash, randomBytes(8)), signed.result)).result,
            false,
          );
          assert.ok(recorder.served('sign').length > 0 && recorder.served('verify').length > 0);
          // The SDK's own client (which can read the key) verifies in the vault too.
          const own = fixture.cryptoClient(key);
          assert.equal((await own.verify(alg, digest, signed.result)).result, true);
        });
      }
    });
  }

  describe('EC, imported from node: node signs and the vault verifies, the vault signs and node verifies', () => {
    for (const [curve, { alg, hash, size }] of Object.entries(EC_CURVES) as [
      SoftwareCurve,
      (typeof EC_CURVES)[SoftwareCurve],
    ][]) {
      it(`EC ${curve} (${alg})`, async () => {
        const local = nodeEcKey(curve);
        const key = await keys.importKey(`ec-imported-${curve}`, sdkJwkOf(local.jwk));
        assertPublicOnly(key.key);
        assert.equal(key.key?.crv, curve);
        const client = fixture.cryptoClient(key);
        const message = randomBytes(50);
        const digest = digestOf(hash, message);
        const nodeSignature = sign(hash, message, { key: local.privateKey, dsaEncoding: 'ieee-p1363' });
        assert.equal(nodeSignature.length, 2 * size);
        assert.equal((await client.verify(alg, digest, nodeSignature)).result, true);
        const vaultSignature = (await client.sign(alg, digest)).result;
        assert.ok(verify(hash, message, { key: local.publicKey, dsaEncoding: 'ieee-p1363' }, vaultSignature));
      });
    }
  });

  it('serves many concurrent operations on both tiers, each checked by node:crypto', async () => {
    const names = ['rsa-sw-2048', 'rsa-hsm-2048', 'ec-sw-P-256', 'ec-hsm-P-256', 'ec-hsm-P-384'];
    const loaded = await Promise.all(names.map((name) => keys.getKey(name)));
    const jobs = Array.from({ length: 40 }, async (_, i) => {
      const key = loaded[i % loaded.length] as KeyVaultKey;
      const ec = key.keyType === 'EC' || key.keyType === 'EC-HSM';
      const hash = key.key?.crv === 'P-384' ? 'sha384' : 'sha256';
      const alg = (
        ec ? (hash === 'sha384' ? 'ES384' : 'ES256') : i % 2 ? 'PS256' : 'RS256'
      ) as SignatureAlgorithm;
      const message = randomBytes(20 + i);
      const { result } = await served(key).client.sign(alg, digestOf(hash, message));
      const options = ec
        ? { key: publicKeyOf(key), dsaEncoding: 'ieee-p1363' as const }
        : nodeRsaSignature(alg, publicKeyOf(key));
      assert.ok(verify(hash, message, options, result), `${key.name} ${alg} #${i}`);
      if (!ec) {
        const secret = randomBytes(16);
        const ciphertext = publicEncrypt(
          { key: publicKeyOf(key), ...nodeRsaEncryption('RSA-OAEP-256') },
          secret,
        );
        const opened = await served(key).client.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext });
        assert.deepEqual(Buffer.from(opened.result), secret);
      }
    });
    await Promise.all(jobs);
  });

  describe('oct-HSM (AES in SoftHSM2)', () => {
    for (const bits of [128, 192, 256] as const) {
      const kw = `A${bits}KW` as KeyWrapAlgorithm;
      const gcm = `A${bits}GCM` as AesGcmEncryptionAlgorithm;

      it(`oct-HSM ${bits}: ${kw} wraps (RFC 3394) and unwraps; tampering is refused with 400`, async () => {
        const key = await keys.createOctKey(`oct-${bits}`, { keySize: bits, hsm: true });
        assert.equal(key.keyType, 'oct-HSM');
        assertPublicOnly(key.key);
        const { client } = served(key);
        for (const length of [16, 24, 32, 64]) {
          const secret = randomBytes(length);
          const wrapped = await client.wrapKey(kw, secret);
          assert.equal(wrapped.result.length, length + 8, 'RFC 3394: 8 bytes of integrity check');
          assert.deepEqual(Buffer.from((await client.unwrapKey(kw, wrapped.result)).result), secret);
          const tampered = Buffer.from(wrapped.result);
          tampered[5] = (tampered[5] ?? 0) ^ 1;
          await assert.rejects(client.unwrapKey(kw, tampered), { statusCode: 400, code: 'BadParameter' });
        }
        const other = bits === 256 ? 'A128KW' : 'A256KW';
        await assert.rejects(client.wrapKey(other, randomBytes(16)), {
          statusCode: 400,
          code: 'BadParameter',
        });
      });

      it(`oct-HSM ${bits}: ${gcm} encrypts with a vault-made iv and tag, decrypts, refuses a wrong tag or aad`, async () => {
        const key = await keys.getKey(`oct-${bits}`);
        const { client } = served(key);
        const plaintext = randomBytes(100);
        const aad = Buffer.from('header');
        const encrypted = await client.encrypt({
          algorithm: gcm,
          plaintext,
          additionalAuthenticatedData: aad,
        });
        assert.equal(encrypted.result.length, plaintext.length);
        assert.equal(encrypted.iv?.length, 12);
        assert.equal(encrypted.authenticationTag?.length, 16);
        const decrypted = await client.decrypt({
          algorithm: gcm,
          ciphertext: encrypted.result,
          iv: encrypted.iv as Uint8Array,
          authenticationTag: encrypted.authenticationTag as Uint8Array,
          additionalAuthenticatedData: aad,
        });
        assert.deepEqual(Buffer.from(decrypted.result), plaintext);
        const tag = Buffer.from(encrypted.authenticationTag as Uint8Array);
        tag[0] = (tag[0] ?? 0) ^ 1;
        for (const bad of [
          { authenticationTag: tag, additionalAuthenticatedData: aad },
          {
            authenticationTag: encrypted.authenticationTag as Uint8Array,
            additionalAuthenticatedData: Buffer.from('other'),
          },
        ]) {
          await assert.rejects(
            client.decrypt({
              algorithm: gcm,
              ciphertext: encrypted.result,
              iv: encrypted.iv as Uint8Array,
              ...bad,
            }),
            { statusCode: 400, code: 'BadParameter' },
          );
        }
        // Without aad, and an empty plaintext.
        const empty = await client.encrypt({ algorithm: gcm, plaintext: Buffer.alloc(0) });
        const back = await client.decrypt({
          algorithm: gcm,
          ciphertext: empty.result,
          iv: empty.iv as Uint8Array,
          authenticationTag: empty.authenticationTag as Uint8Array,
        });
        assert.equal(back.result.length, 0);
      });
    }

    it("the HSM's AES-KW and AES-GCM match node's id-aes*-wrap and aes-*-gcm (known-answer, a test-made token key)", async () => {
      const token = await openFixtureToken(fixture.dataDir);
      try {
        for (const bits of [128, 192, 256] as const) {
          const value = randomBytes(bits / 8);
          const handle = await token.knownAesKey(value);
          try {
            const key = await token.store.open(handle);
            const secret = randomBytes(32);
            const kwIv = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
            const wrapper = createCipheriv(`id-aes${bits}-wrap`, value, kwIv);
            const nodeWrapped = Buffer.concat([wrapper.update(secret), wrapper.final()]);
            const hsmWrapped = await key.wrapKey(`A${bits}KW`, secret);
            assert.deepEqual(hsmWrapped, nodeWrapped, `A${bits}KW`);
            const unwrapper = createDecipheriv(`id-aes${bits}-wrap`, value, kwIv);
            assert.deepEqual(Buffer.concat([unwrapper.update(hsmWrapped), unwrapper.final()]), secret);

            const iv = randomBytes(12);
            const aad = randomBytes(20);
            const plaintext = randomBytes(77);
            const sealed = await key.encrypt(`A${bits}GCM`, plaintext, { iv, aad });
            const decipher = createDecipheriv(`aes-${bits}-gcm`, value, iv);
            decipher.setAAD(aad);
            decipher.setAuthTag(sealed.tag as Buffer);
            assert.deepEqual(
              Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]),
              plaintext,
            );
            const cipher = createCipheriv(`aes-${bits}-gcm`, value, iv);
            cipher.setAAD(aad);
            const nodeCiphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
            const opened = await key.decrypt(`A${bits}GCM`, nodeCiphertext, {
              iv,
              aad,
              tag: cipher.getAuthTag(),
            });
            assert.deepEqual(opened, plaintext, `A${bits}GCM`);
          } finally {
            await token.store.destroy(handle);
          }
        }
      } finally {
        await token.close();
      }
    });
  });
});
