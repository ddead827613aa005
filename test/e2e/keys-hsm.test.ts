import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RestError } from '@azure/core-rest-pipeline';
import type { KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import { ck } from '#lib/keys/hsm/pkcs11-session.ts';
import { openFixtureToken } from '../support/hsm-token.ts';
import { rawRequest } from '../support/https.ts';
import { assertPublicOnly, nodeEcKey, nodeRsaKey, publicKeyOf, sdkJwkOf } from '../support/keys.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';
import { rejectsWith } from '../support/sdk-errors.ts';

const poll = { intervalInMs: 50 };

/**
 * HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) on the local vault's SoftHSM2
 * token, looked at through PKCS#11 from outside the vault's code paths: made
 * (or imported) in the token, sensitive and let out only wrapped under the
 * token's trusted backup key (BackupKey), made again from it (RestoreKey),
 * destroyed at purge.
 */
describe('HSM keys in SoftHSM2, seen through PKCS#11', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let client: KeyClient;
  let token: Awaited<ReturnType<typeof openFixtureToken>>;

  before(async () => {
    fixture = await localVaultFixture();
    client = fixture.keyClient();
    // The vault opens the token on first use of an HSM key; make one so the token exists and is initialised.
    await client.createEcKey('warm-up', { hsm: true });
    token = await openFixtureToken(fixture.dataDir);
  });
  after(async () => {
    await token?.close();
    await fixture.close();
  });

  /** The handle of a key's token objects: by its public part (RSA, EC), or the one new object (oct). */
  async function handleOf(key: KeyVaultKey, before?: Set<string>): Promise<string> {
    const jwk = key.key;
    let handle: string | undefined;
    if (jwk?.kty === 'RSA-HSM') handle = await token.handleOfModulus(jwk.n as Uint8Array);
    else if (jwk?.kty === 'EC-HSM')
      handle = await token.handleOfPoint(jwk.x as Uint8Array, jwk.y as Uint8Array);
    else {
      const added = (await token.keys()).filter((k) => !before?.has(k.handle));
      assert.equal(added.length, 1, 'one new secret key object');
      handle = added[0]?.handle;
    }
    assert.match(handle ?? '', /^arca-[0-9a-f]{32}$/, `the token holds ${key.name}`);
    return handle as string;
  }

  const handles = async () => new Set((await token.keys()).map((k) => k.handle));

  /**
   * The key is in the token and never leaves it in the clear: sensitive (the
   * token refuses its value), and wrappable only under a trusted key (the
   * local vault backs HSM keys up, under its trusted backup key; any other key
   * gets CKR_KEY_NOT_WRAPPABLE). A generated key was always sensitive; an
   * imported one was once outside (PKCS#11 says always-sensitive false).
   */
  async function assertNeverInTheClear(
    handle: string,
    secretAttribute: number,
    origin: 'generated' | 'imported' = 'generated',
  ) {
    const attributes = await token.store.attributes(handle);
    assert.deepEqual(attributes, {
      token: true,
      private: true,
      sensitive: true,
      extractable: true,
      alwaysSensitive: origin === 'generated',
      neverExtractable: false,
      wrapWithTrusted: true,
    });
    assert.equal(
      await token.readSecretAttribute(handle, secretAttribute),
      'CKR_ATTRIBUTE_SENSITIVE',
      'the token refuses to hand out the key value',
    );
    assert.equal(
      await token.wrapUnderUntrustedKey(handle),
      'CKR_KEY_NOT_WRAPPABLE',
      'the token lets the key out under no key but a trusted one',
    );
  }

  it('RSA-HSM keys of 2048, 3072 and 4096 bits live in the token: CKA_SENSITIVE, wrappable only under a trusted key', async () => {
    for (const size of [2048, 3072, 4096]) {
      const key = await client.createRsaKey(`hsm-rsa-${size}`, { keySize: size, hsm: true });
      assert.equal(key.keyType, 'RSA-HSM');
      assertPublicOnly(key.key);
      assert.equal(publicKeyOf(key).asymmetricKeyDetails?.modulusLength, size);
      const handle = await handleOf(key);
      assert.equal((await token.keys()).find((k) => k.handle === handle)?.class, 'private');
      await assertNeverInTheClear(handle, ck.CKA_PRIVATE_EXPONENT);
      assert.equal(await token.readSecretAttribute(handle, ck.CKA_PRIME_1), 'CKR_ATTRIBUTE_SENSITIVE');
      // What the API shows is what the token holds.
      const got = await client.getKey(`hsm-rsa-${size}`);
      assert.deepEqual(Buffer.from(got.key?.n ?? []), Buffer.from(key.key?.n ?? []));
      assertPublicOnly(got.key);
    }
  });

  it('EC-HSM keys on P-256, P-256K, P-384 and P-521 live in the token, never out of it in the clear', async () => {
    for (const curve of ['P-256', 'P-256K', 'P-384', 'P-521'] as const) {
      const key = await client.createEcKey(`hsm-ec-${curve}`, { curve, hsm: true });
      assert.equal(key.keyType, 'EC-HSM');
      assert.equal(key.key?.crv, curve);
      assertPublicOnly(key.key);
      await assertNeverInTheClear(await handleOf(key), ck.CKA_VALUE);
    }
  });

  it('oct-HSM keys of 128, 192 and 256 bits live in the token, never out of it in the clear; their JWK has no k', async () => {
    for (const bits of [128, 192, 256]) {
      const seen = await handles();
      const key = await client.createOctKey(`hsm-oct-${bits}`, { keySize: bits, hsm: true });
      assert.equal(key.keyType, 'oct-HSM');
      assertPublicOnly(key.key);
      assert.deepEqual(
        Object.entries(key.key ?? {})
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k)
          .sort(),
        ['keyOps', 'kid', 'kty'],
      );
      const handle = await handleOf(key, seen);
      assert.equal((await token.keys()).find((k) => k.handle === handle)?.class, 'secret');
      await assertNeverInTheClear(handle, ck.CKA_VALUE);
      const raw = await rawRequest(`${fixture.info.vaultUrl}/keys/hsm-oct-${bits}?api-version=2025-07-01`, {
        headers: { authorization: `Bearer ${await fixture.token()}` },
      });
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json().key).sort(), ['key_ops', 'kid', 'kty']);
    }
  });

  it('keeps every version of a rotated HSM key in the token; delete and recover keep them, purge destroys them all', async () => {
    const first = await client.createRsaKey('hsm-purged', { hsm: true });
    const second = await client.rotateKey('hsm-purged');
    assert.equal(second.keyType, 'RSA-HSM');
    const seen = await handles();
    const oct = await client.createOctKey('hsm-oct-purged', { hsm: true });
    const all = [await handleOf(first), await handleOf(second), await handleOf(oct, seen)];
    assert.equal(new Set(all).size, 3);
    for (const handle of all.slice(0, 2))
      assert.equal(await token.objectCount(handle), 2, 'private and public object');
    assert.equal(await token.objectCount(all[2] as string), 1);

    // The old version still decrypts what was sealed for it.
    const ciphertext = publicEncrypt(
      { key: publicKeyOf(first), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from('older'),
    );
    const opened = await fixture
      .cryptoClient(first.id as string)
      .decrypt({ algorithm: 'RSA-OAEP', ciphertext });
    assert.equal(Buffer.from(opened.result).toString(), 'older');

    for (const name of ['hsm-purged', 'hsm-oct-purged'])
      await (await client.beginDeleteKey(name, poll)).pollUntilDone();
    for (const handle of all)
      assert.ok((await token.objectCount(handle)) > 0, 'a soft-deleted key keeps its material');
    await (await client.beginRecoverDeletedKey('hsm-purged', poll)).pollUntilDone();
    const wrapped = await fixture
      .cryptoClient(second)
      .unwrapKey(
        'RSA-OAEP-256',
        publicEncrypt(
          { key: publicKeyOf(second), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          Buffer.alloc(32, 9),
        ),
      );
    assert.deepEqual(Buffer.from(wrapped.result), Buffer.alloc(32, 9));

    await (await client.beginDeleteKey('hsm-purged', poll)).pollUntilDone();
    await client.purgeDeletedKey('hsm-purged');
    await client.purgeDeletedKey('hsm-oct-purged');
    for (const handle of all) {
      assert.equal(await token.objectCount(handle), 0, 'purge destroys every object of every version');
      await assert.rejects(token.store.attributes(handle), { code: 'KeyNotFound' });
    }
    await rejectsWith(client.getDeletedKey('hsm-purged'), 404, 'KeyNotFound');
  });

  it('leaves no object in the token when a create fails after the key was made', async () => {
    await client.createRsaKey('hsm-deleted-name', { hsm: true });
    await (await client.beginDeleteKey('hsm-deleted-name', poll)).pollUntilDone();
    const seen = await handles();
    await rejectsWith(client.createRsaKey('hsm-deleted-name', { hsm: true }), 409, 'Conflict');
    await rejectsWith(client.createOctKey('hsm-deleted-name', { hsm: true }), 409, 'Conflict');
    assert.deepEqual(await handles(), seen, 'the key made for the refused version was destroyed again');
  });

  it('imports RSA, EC and oct keys into the HSM: sensitive, wrappable only under a trusted key, used there for the original key', async () => {
    const digest = (data: Buffer) => createHash('sha256').update(data).digest();
    const data = Buffer.from('signed in the HSM');

    // RSA-2048 made here, imported with Hsm: true through the unmodified KeyClient.
    const rsa = nodeRsaKey(2048);
    const rsaKey = await client.importKey('hsm-import-rsa', sdkJwkOf(rsa.jwk), { hardwareProtected: true });
    assert.equal(rsaKey.keyType, 'RSA-HSM');
    assertPublicOnly(rsaKey.key);
    assert.deepEqual(Buffer.from(rsaKey.key?.n ?? []), Buffer.from(rsa.jwk.n as string, 'base64url'));
    assert.deepEqual([...(rsaKey.keyOperations ?? [])].sort(), [
      'decrypt',
      'encrypt',
      'sign',
      'unwrapKey',
      'verify',
      'wrapKey',
    ]);
    const rsaHandle = await handleOf(rsaKey);
    assert.equal(await token.objectCount(rsaHandle), 2, 'private and public object');
    await assertNeverInTheClear(rsaHandle, ck.CKA_PRIVATE_EXPONENT, 'imported');
    assert.equal(await token.readSecretAttribute(rsaHandle, ck.CKA_PRIME_1), 'CKR_ATTRIBUTE_SENSITIVE');
    const rsaCrypto = fixture.cryptoClient(rsaKey);
    const rs256 = await rsaCrypto.sign('RS256', digest(data));
    assert.equal(
      verify('sha256', data, rsa.publicKey, rs256.result),
      true,
      'node verifies with the original key',
    );
    const ps256 = await rsaCrypto.sign('PS256', digest(data));
    assert.equal(
      verify(
        'sha256',
        data,
        { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        ps256.result,
      ),
      true,
    );
    const sealed = publicEncrypt(
      { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from('for the HSM'),
    );
    const opened = await rsaCrypto.decrypt({ algorithm: 'RSA-OAEP', ciphertext: sealed });
    assert.equal(Buffer.from(opened.result).toString(), 'for the HSM');

    // A JWK whose kty says RSA-HSM goes to the HSM too, with the key_ops it asks for.
    const second = nodeRsaKey(2048);
    const byKty = await client.importKey('hsm-import-rsa', {
      ...sdkJwkOf(second.jwk),
      kty: 'RSA-HSM',
      keyOps: ['sign', 'verify'],
    });
    assert.equal(byKty.keyType, 'RSA-HSM');
    assert.deepEqual(byKty.keyOperations, ['sign', 'verify']);
    await assertNeverInTheClear(await handleOf(byKty), ck.CKA_PRIVATE_EXPONENT, 'imported');
    const byKtySignature = await fixture.cryptoClient(byKty).sign('PS256', digest(data));
    assert.equal(
      verify(
        'sha256',
        data,
        { key: second.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        byKtySignature.result,
      ),
      true,
    );

    // EC P-256.
    const ec = nodeEcKey('P-256');
    const ecKey = await client.importKey('hsm-import-ec', sdkJwkOf(ec.jwk), { hardwareProtected: true });
    assert.equal(ecKey.keyType, 'EC-HSM');
    assert.equal(ecKey.key?.crv, 'P-256');
    assertPublicOnly(ecKey.key);
    const ecHandle = await handleOf(ecKey);
    assert.equal(await token.objectCount(ecHandle), 2);
    await assertNeverInTheClear(ecHandle, ck.CKA_VALUE, 'imported');
    const es256 = await fixture.cryptoClient(ecKey).sign('ES256', digest(data));
    assert.equal(
      verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, es256.result),
      true,
      'node verifies with the original key',
    );

    // A 256-bit AES key: node's aes-256-wrap of a key unwraps through the vault, and the other way round.
    const k = randomBytes(32);
    const seen = await handles();
    const octKey = await client.importKey('hsm-import-oct', { kty: 'oct', k }, { hardwareProtected: true });
    assert.equal(octKey.keyType, 'oct-HSM');
    assertPublicOnly(octKey.key);
    const octHandle = await handleOf(octKey, seen);
    assert.equal(await token.objectCount(octHandle), 1);
    await assertNeverInTheClear(octHandle, ck.CKA_VALUE, 'imported');
    const iv = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
    const cek = randomBytes(32);
    const wrap = createCipheriv('id-aes256-wrap', k, iv);
    const nodeWrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
    const octCrypto = fixture.cryptoClient(octKey);
    assert.deepEqual(Buffer.from((await octCrypto.unwrapKey('A256KW', nodeWrapped)).result), cek);
    const vaultWrapped = Buffer.from((await octCrypto.wrapKey('A256KW', cek)).result);
    const unwrap = createDecipheriv('id-aes256-wrap', k, iv);
    assert.deepEqual(Buffer.concat([unwrap.update(vaultWrapped), unwrap.final()]), cek);
    k.fill(0);
  });

  it('refuses a bad JWK for the HSM with 400, making nothing', async () => {
    const rsa = nodeRsaKey(2048);
    const other = nodeRsaKey(2048);
    const seen = await handles();
    await rejectsWith(
      client.importKey(
        'hsm-import-bad',
        { ...sdkJwkOf(rsa.jwk), d: sdkJwkOf(other.jwk).d },
        { hardwareProtected: true },
      ),
      400,
      'BadParameter',
      /'d'/,
    );
    await rejectsWith(
      client.importKey('hsm-import-bad', { kty: 'oct', k: randomBytes(20) }, { hardwareProtected: true }),
      400,
      'BadParameter',
      /'k'/,
    );
    await rejectsWith(
      client.importKey('hsm-import-bad', { kty: 'oct-HSM', k: randomBytes(64) }),
      400,
      'BadParameter',
      /'k'/,
    );
    const { d: _d, ...publicOnly } = sdkJwkOf(nodeEcKey('P-384').jwk);
    await rejectsWith(
      client.importKey('hsm-import-bad', publicOnly, { hardwareProtected: true }),
      400,
      'BadParameter',
      /'d'/,
    );
    assert.deepEqual(await handles(), seen, 'nothing was made in the HSM');
    await rejectsWith(client.getKey('hsm-import-bad'), 404, 'KeyNotFound');
  });

  it('backs HSM keys up wrapped by the token and restores them after purge into new token objects, every version', async () => {
    const first = await client.createRsaKey('hsm-backup-rsa', { keySize: 3072, hsm: true });
    const second = await client.rotateKey('hsm-backup-rsa');
    const ec = await client.createEcKey('hsm-backup-ec', { curve: 'P-384', hsm: true });
    const seen = await handles();
    const oct = await client.createOctKey('hsm-backup-oct', { keySize: 256, hsm: true });
    const before = [
      await handleOf(first),
      await handleOf(second),
      await handleOf(ec),
      await handleOf(oct, seen),
    ];
    const octCrypto = fixture.cryptoClient(oct);
    const cek = randomBytes(32);
    const octWrapped = Buffer.from((await octCrypto.wrapKey('A256KW', cek)).result);
    const sealedForFirst = publicEncrypt(
      { key: publicKeyOf(first), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('for the first version'),
    );

    const blobs = new Map<string, Uint8Array>();
    for (const name of ['hsm-backup-rsa', 'hsm-backup-ec', 'hsm-backup-oct']) {
      const blob = await client.backupKey(name);
      assert.ok(blob && blob.length > 0);
      blobs.set(name, blob);
      await (await client.beginDeleteKey(name, poll)).pollUntilDone();
      await client.purgeDeletedKey(name);
    }
    for (const handle of before)
      assert.equal(await token.objectCount(handle), 0, 'purge destroyed the material');

    // Restoring while the name is taken is a 409 that leaves no object behind.
    await client.createRsaKey('hsm-backup-taken', { hsm: true });
    const taken = await client.backupKey('hsm-backup-taken');
    const untouched = await handles();
    await rejectsWith(client.restoreKeyBackup(taken as Uint8Array), 409, 'Conflict');
    assert.deepEqual(await handles(), untouched, 'the objects made for the refused restore were destroyed');

    const rsa = await client.restoreKeyBackup(blobs.get('hsm-backup-rsa') as Uint8Array);
    assert.equal(rsa.keyType, 'RSA-HSM');
    assert.equal(rsa.properties.version, second.properties.version);
    assertPublicOnly(rsa.key);
    const versions = [];
    for await (const v of client.listPropertiesOfKeyVersions('hsm-backup-rsa')) versions.push(v.version);
    assert.deepEqual(versions.sort(), [first.properties.version, second.properties.version].sort());
    const restoredRsa = await handleOf(rsa);
    assert.ok(!before.includes(restoredRsa), 'restored into new token objects');
    await assertNeverInTheClear(restoredRsa, ck.CKA_PRIVATE_EXPONENT, 'imported');
    // The older version decrypts what was sealed for it before the backup; the latest signs for its public key.
    const opened = await fixture
      .cryptoClient(first.id as string)
      .decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: sealedForFirst });
    assert.equal(Buffer.from(opened.result).toString(), 'for the first version');
    const digest = createHash('sha256').update('restored').digest();
    const signed = await fixture.cryptoClient(rsa).sign('PS256', digest);
    assert.ok(
      verify(
        'sha256',
        Buffer.from('restored'),
        { key: publicKeyOf(second), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        Buffer.from(signed.result),
      ),
    );

    const restoredEc = await client.restoreKeyBackup(blobs.get('hsm-backup-ec') as Uint8Array);
    assert.deepEqual(Buffer.from(restoredEc.key?.x ?? []), Buffer.from(ec.key?.x ?? []));
    await assertNeverInTheClear(await handleOf(restoredEc), ck.CKA_VALUE, 'imported');
    const ecDigest = createHash('sha384').update('restored').digest();
    const ecSigned = await fixture.cryptoClient(restoredEc).sign('ES384', ecDigest);
    assert.ok(
      verify(
        'sha384',
        Buffer.from('restored'),
        { key: publicKeyOf(ec), dsaEncoding: 'ieee-p1363' },
        Buffer.from(ecSigned.result),
      ),
    );

    const beforeOct = await handles();
    const restoredOct = await client.restoreKeyBackup(blobs.get('hsm-backup-oct') as Uint8Array);
    await assertNeverInTheClear(await handleOf(restoredOct, beforeOct), ck.CKA_VALUE, 'imported');
    const unwrapped = await fixture.cryptoClient(restoredOct).unwrapKey('A256KW', octWrapped);
    assert.deepEqual(Buffer.from(unwrapped.result), cek, 'the restored AES key is the original');

    // A backup is opaque: one changed byte is a 400, and nothing is made.
    const blob = Buffer.from(blobs.get('hsm-backup-oct') as Uint8Array);
    await (await client.beginDeleteKey('hsm-backup-oct', poll)).pollUntilDone();
    await client.purgeDeletedKey('hsm-backup-oct');
    const envelope = JSON.parse(blob.toString('utf8'));
    const ciphertext = Buffer.from(envelope.ciphertext, 'base64');
    ciphertext[0] = (ciphertext[0] as number) ^ 1;
    const tampered = Buffer.from(JSON.stringify({ ...envelope, ciphertext: ciphertext.toString('base64') }));
    const quiet = await handles();
    await rejectsWith(client.restoreKeyBackup(tampered), 400, 'BadParameter', /corrupt/);
    assert.deepEqual(await handles(), quiet);

    // A key holding both kinds of version backs up and restores both.
    await client.createRsaKey('mixed', { keySize: 2048 });
    await client.createRsaKey('mixed', { keySize: 2048, hsm: true });
    const mixed = await client.backupKey('mixed');
    await (await client.beginDeleteKey('mixed', poll)).pollUntilDone();
    await client.purgeDeletedKey('mixed');
    const restoredMixed = await client.restoreKeyBackup(mixed as Uint8Array);
    assert.equal(restoredMixed.keyType, 'RSA-HSM');
  });

  it("keeps the process's other cryptography working after the HSM refuses input (OpenSSL error queue)", async () => {
    const rsa = await client.getKey('hsm-rsa-2048');
    const oct = await client.getKey('hsm-oct-256');
    const software = await client.createRsaKey('software-after-hsm');
    const local = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = local.privateKey.export({ format: 'pem', type: 'pkcs8' });
    const digest = createHash('sha256').update('x').digest();
    const failures: (() => Promise<unknown>)[] = [
      async () =>
        assert.equal(
          (await fixture.cryptoClient(rsa).verify('RS256', digest, randomBytes(256))).result,
          false,
        ),
      () => fixture.cryptoClient(rsa).decrypt({ algorithm: 'RSA1_5', ciphertext: randomBytes(256) }),
      () => fixture.cryptoClient(rsa).decrypt({ algorithm: 'RSA-OAEP', ciphertext: randomBytes(256) }),
      () => fixture.cryptoClient(oct).unwrapKey('A256KW', randomBytes(40)),
      () =>
        fixture.cryptoClient(oct).decrypt({
          algorithm: 'A256GCM',
          ciphertext: randomBytes(20),
          iv: randomBytes(12),
          authenticationTag: randomBytes(16),
        }),
    ];
    for (const fail of failures) {
      await fail().catch((e: RestError) => assert.equal(e.statusCode, 400, e.message));
      // A software key is parsed (createPrivateKey) for each operation, in the same process as the HSM.
      const signature = await fixture.cryptoClient(software).sign('RS256', digest);
      assert.equal(signature.result.length, 256);
      assert.ok(createPrivateKey(pem), 'node:crypto in this process is unaffected');
    }
  });

  it('a standard-tier vault refuses HSM key types with 400; software keys work there', async () => {
    const base = fixture.info.vaultUrl;
    const headers = { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' };
    const created = await rawRequest(`${base}/vaults/std-keys?api-version=2024-11-01`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ properties: { sku: { family: 'A', name: 'standard' } } }),
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json().properties.sku.name, 'standard');
    const host = { ...headers, host: `std-keys.localhost:${fixture.vault.port}` };
    const call = (method: string, path: string, body: unknown) =>
      rawRequest(`${base}${path}?api-version=2025-07-01`, {
        method,
        headers: host,
        body: JSON.stringify(body),
      });
    const seen = await handles();
    for (const body of [
      { kty: 'RSA-HSM', key_size: 2048 },
      { kty: 'EC-HSM', crv: 'P-256' },
      { kty: 'oct-HSM', key_size: 256 },
    ]) {
      const res = await call('POST', '/keys/tiered/create', body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json().error.code, 'BadParameter');
      assert.match(res.json().error.message, /premium/);
    }
    const local = nodeRsaKey(2048);
    for (const body of [
      { key: local.jwk, Hsm: true },
      { key: { ...local.jwk, kty: 'RSA-HSM' } },
      { key: nodeEcKey('P-256').jwk, Hsm: true },
      { key: { kty: 'oct', k: randomBytes(32).toString('base64url') }, Hsm: true },
      { key: { kty: 'oct-HSM', k: randomBytes(32).toString('base64url') } },
    ]) {
      const imported = await call('PUT', '/keys/tiered', body);
      assert.equal(imported.status, 400, imported.text);
      assert.equal(imported.json().error.code, 'BadParameter');
      assert.match(imported.json().error.message, /premium/);
    }
    assert.deepEqual(await handles(), seen, 'nothing was made in the HSM');
    const software = await call('POST', '/keys/tiered/create', { kty: 'RSA', key_size: 2048 });
    assert.equal(software.status, 200, software.text);
    assert.ok(
      software.json().key.kid.startsWith(`https://std-keys.localhost:${fixture.vault.port}/keys/tiered/`),
    );
    const ec = await call('POST', '/keys/tiered-ec/create', { kty: 'EC', crv: 'P-384' });
    assert.equal(ec.status, 200, ec.text);
  });

  it("purging a vault destroys its keys' HSM material, live and deleted, every version", async () => {
    const base = fixture.info.vaultUrl;
    const headers = { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' };
    const manage = (method: string, path: string, body?: unknown) =>
      rawRequest(`${base}${path}?api-version=2024-11-01`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const created = await manage('PUT', '/vaults/hsm-purge', {
      properties: { sku: { family: 'A', name: 'premium' } },
    });
    assert.equal(created.status, 201, created.text);
    const host = { ...headers, host: `hsm-purge.localhost:${fixture.vault.port}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await rawRequest(`${base}${path}?api-version=2025-07-01`, {
        method,
        headers: host,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
      return res;
    };
    const seen = await handles();
    await call('POST', '/keys/kept/create', { kty: 'RSA-HSM', key_size: 2048 });
    await call('POST', '/keys/kept/rotate');
    await call('POST', '/keys/gone/create', { kty: 'EC-HSM', crv: 'P-256' });
    await call('DELETE', '/keys/gone');
    await call('POST', '/keys/soft/create', { kty: 'RSA', key_size: 2048 });
    const made = [...(await handles())].filter((h) => !seen.has(h));
    assert.equal(made.length, 3, 'two versions of kept and one of gone live in the token');

    assert.equal((await manage('DELETE', '/vaults/hsm-purge')).status, 200);
    for (const handle of made)
      assert.ok((await token.objectCount(handle)) > 0, 'a deleted vault keeps its keys');
    const purged = await manage('POST', '/deletedVaults/hsm-purge/purge');
    assert.equal(purged.status, 200, purged.text);
    for (const handle of made)
      assert.equal(await token.objectCount(handle), 0, `${handle} destroyed with its vault`);
  });

  it('with ARCA_HSM=off, HSM key types (created or imported) are refused with a 400 saying how to enable them; software keys work', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'hsm-off-probe.ts')],
      { env: process.env, timeout: 120_000 },
    );
    const answers = JSON.parse(stdout.trim().split('\n').pop() as string);
    for (const kty of ['RSA-HSM', 'EC-HSM', 'oct-HSM', 'import RSA-HSM', 'import oct-HSM']) {
      assert.equal(answers[kty].status, 400, kty);
      assert.equal(answers[kty].code, 'BadParameter');
      assert.match(answers[kty].message, /not enabled in this deployment: set ARCA_HSM to pkcs11/);
    }
    assert.equal(answers.RSA.status, 200);
  });
});
