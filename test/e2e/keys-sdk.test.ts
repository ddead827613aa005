import assert from 'node:assert/strict';
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes, sign, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DeletedKey, KeyClient, KeyProperties, KeyVaultKey } from '@azure/keyvault-keys';
import { assertPublicOnly, nodeEcKey, nodeRsaKey, publicKeyOf, sdkJwkOf } from '../support/keys.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';
import { rejectsWith } from '../support/sdk-errors.ts';

const poll = { intervalInMs: 50 };
const VERSION = /^[0-9a-f]{32}$/;
const ALL_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

/** Every page of an SDK listing of at most `size` items, by the SDK's own paging. */
async function pages(
  iterator: { byPage(settings: { maxPageSize: number }): AsyncIterable<KeyProperties[]> },
  size: number,
) {
  const out: KeyProperties[][] = [];
  for await (const page of iterator.byPage({ maxPageSize: size })) out.push(page);
  return out;
}

/** The key lifecycle on software keys through the unmodified KeyClient. */
describe('keys through the unmodified Azure SDK KeyClient (software keys)', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let client: KeyClient;

  before(async () => {
    fixture = await localVaultFixture();
    client = fixture.keyClient();
  });
  after(() => fixture.close());

  const checkKey = (key: KeyVaultKey, name: string) => {
    assert.equal(key.name, name);
    assert.match(key.properties.version ?? '', VERSION);
    assert.equal(key.id, `${fixture.info.vaultUrl}/keys/${name}/${key.properties.version}`);
    assert.equal(key.key?.kid, key.id);
    assertPublicOnly(key.key, `the JWK of ${name}`);
    assert.equal(key.properties.recoveryLevel, 'Recoverable+Purgeable');
    assert.equal(key.properties.recoverableDays, 90);
    assert.ok(key.properties.createdOn instanceof Date);
    assert.ok(key.properties.updatedOn instanceof Date);
  };

  it('creates RSA keys of 2048, 3072 and 4096 bits with the default key_ops', async () => {
    for (const size of [2048, 3072, 4096]) {
      const key = await client.createRsaKey(`rsa-${size}`, { keySize: size });
      checkKey(key, `rsa-${size}`);
      assert.equal(key.keyType, 'RSA');
      assert.equal(key.properties.enabled, true);
      assert.deepEqual([...(key.keyOperations ?? [])].sort(), [...ALL_OPS].sort());
      assert.equal(publicKeyOf(key).asymmetricKeyDetails?.modulusLength, size);
      assert.deepEqual(Buffer.from(key.key?.e ?? []), Buffer.from([1, 0, 1]));
    }
    const byDefault = await client.createKey('rsa-default', 'RSA');
    assert.equal(byDefault.key?.n?.length, 256, 'RSA keys are 2048 bits unless asked');
  });

  it('creates EC keys on P-256, P-256K, P-384 and P-521 that only sign and verify', async () => {
    const sizes = { 'P-256': 32, 'P-256K': 32, 'P-384': 48, 'P-521': 66 } as const;
    for (const [curve, size] of Object.entries(sizes)) {
      const name = `ec-${curve}`;
      const key = await client.createEcKey(name, { curve: curve as keyof typeof sizes });
      checkKey(key, name);
      assert.equal(key.keyType, 'EC');
      assert.equal(key.key?.crv, curve);
      assert.equal(key.key?.x?.length, size);
      assert.equal(key.key?.y?.length, size);
      assert.deepEqual([...(key.keyOperations ?? [])].sort(), ['sign', 'verify']);
      assert.equal(publicKeyOf(key).asymmetricKeyType, 'ec');
    }
    assert.equal((await client.createEcKey('ec-default')).key?.crv, 'P-256');
  });

  it('creates a key with key_ops, tags, validity and disabled, as asked', async () => {
    const notBefore = new Date('2024-01-01T00:00:00Z');
    // Before 2038: the SDK sends times as int32 ((ms / 1000) | 0), so later dates go out negative.
    const expiresOn = new Date('2037-01-01T00:00:00Z');
    const key = await client.createRsaKey('rsa-options', {
      keyOps: ['sign', 'verify'],
      tags: { team: 'payments', purpose: 'tests' },
      notBefore,
      expiresOn,
      enabled: false,
    });
    assert.deepEqual(key.keyOperations, ['sign', 'verify']);
    assert.deepEqual(key.properties.tags, { team: 'payments', purpose: 'tests' });
    assert.equal(key.properties.notBefore?.toISOString(), notBefore.toISOString());
    assert.equal(key.properties.expiresOn?.toISOString(), expiresOn.toISOString());
    assert.equal(key.properties.enabled, false);
    const got = await client.getKey('rsa-options');
    assert.equal(got.properties.enabled, false, 'a disabled key is still shown');
    assertPublicOnly(got.key);
  });

  it('imports RSA and EC keys made by node:crypto: the vault uses them, node checks every result', async () => {
    const rsa = nodeRsaKey(2048);
    const imported = await client.importKey('imported-rsa', sdkJwkOf(rsa.jwk), { tags: { origin: 'node' } });
    checkKey(imported, 'imported-rsa');
    assert.equal(imported.keyType, 'RSA');
    assert.deepEqual(Buffer.from(imported.key?.n ?? []), Buffer.from(rsa.jwk.n as string, 'base64url'));
    assert.deepEqual(imported.properties.tags, { origin: 'node' });
    assert.deepEqual([...(imported.keyOperations ?? [])].sort(), [...ALL_OPS].sort());
    const crypto = fixture.cryptoClient(imported);
    const digest = createHash('sha256').update('imported').digest();
    const signature = (await crypto.sign('RS256', digest)).result;
    assert.ok(verify('sha256', Buffer.from('imported'), rsa.publicKey, signature), 'node verifies');
    const ciphertext = publicEncrypt(
      { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('to the vault'),
    );
    const decrypted = await crypto.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext });
    assert.equal(Buffer.from(decrypted.result).toString(), 'to the vault');
    const encrypted = await crypto.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: Buffer.from('to node') });
    assert.equal(
      privateDecrypt(
        { key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        encrypted.result,
      ).toString(),
      'to node',
    );

    for (const curve of ['P-256', 'P-256K', 'P-384', 'P-521'] as const) {
      const ec = nodeEcKey(curve);
      const key = await client.importKey(`imported-${curve}`, sdkJwkOf(ec.jwk));
      checkKey(key, `imported-${curve}`);
      assert.equal(key.keyType, 'EC');
      assert.equal(key.key?.crv, curve);
      assert.deepEqual(Buffer.from(key.key?.x ?? []), Buffer.from(ec.jwk.x as string, 'base64url'));
    }

    const withOps = nodeEcKey('P-256');
    const limited = await client.importKey('imported-limited', {
      ...sdkJwkOf(withOps.jwk),
      keyOps: ['verify'],
    });
    assert.deepEqual(limited.keyOperations, ['verify']);
    const hash = createHash('sha256').update('m').digest();
    const nodeSignature = sign('sha256', Buffer.from('m'), {
      key: withOps.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    assert.equal((await fixture.cryptoClient(limited).verify('ES256', hash, nodeSignature)).result, true);
  });

  it('imports into the HSM with hardwareProtected or kty RSA-HSM (premium vault), and refuses bad JWKs', async () => {
    const rsa = nodeRsaKey(2048);
    const protectedKey = await client.importKey('to-hsm', sdkJwkOf(rsa.jwk), { hardwareProtected: true });
    checkKey(protectedKey, 'to-hsm');
    assert.equal(protectedKey.keyType, 'RSA-HSM');
    assert.deepEqual(Buffer.from(protectedKey.key?.n ?? []), Buffer.from(rsa.jwk.n as string, 'base64url'));
    const digest = createHash('sha256').update('from the HSM').digest();
    const signature = await fixture.cryptoClient(protectedKey).sign('RS256', digest);
    assert.equal(verify('sha256', Buffer.from('from the HSM'), rsa.publicKey, signature.result), true);
    const byKty = await client.importKey('to-hsm', { ...sdkJwkOf(nodeRsaKey(2048).jwk), kty: 'RSA-HSM' });
    assert.equal(byKty.keyType, 'RSA-HSM');
    assert.notEqual(byKty.properties.version, protectedKey.properties.version);
    assert.equal((await client.getKey('to-hsm')).keyType, 'RSA-HSM');

    const { d: _d, ...publicOnly } = sdkJwkOf(rsa.jwk);
    await rejectsWith(client.importKey('no-private', publicOnly), 400, 'BadParameter', /'d'/);
    const other = nodeRsaKey(2048);
    await rejectsWith(
      client.importKey('mismatched', { ...sdkJwkOf(rsa.jwk), d: sdkJwkOf(other.jwk).d }),
      400,
      'BadParameter',
    );
    await rejectsWith(client.importKey('oct', { kty: 'oct', k: randomBytes(32) }), 400, 'BadParameter');
    await rejectsWith(
      client.importKey(
        'mismatched',
        { ...sdkJwkOf(rsa.jwk), d: sdkJwkOf(other.jwk).d },
        { hardwareProtected: true },
      ),
      400,
      'BadParameter',
    );
    await rejectsWith(
      client.importKey('oct', { kty: 'oct', k: randomBytes(20) }, { hardwareProtected: true }),
      400,
      'BadParameter',
      /'k'/,
    );
    for (const name of ['no-private', 'mismatched', 'oct'])
      await rejectsWith(client.getKey(name), 404, 'KeyNotFound');
  });

  it('gets the latest version, or any version by its id; unknown keys and versions are 404 KeyNotFound', async () => {
    const first = await client.createEcKey('versioned');
    const second = await client.createEcKey('versioned', { curve: 'P-384' });
    assert.notEqual(first.properties.version, second.properties.version);
    const latest = await client.getKey('versioned');
    assert.equal(latest.properties.version, second.properties.version);
    assert.equal(latest.key?.crv, 'P-384');
    const old = await client.getKey('versioned', { version: first.properties.version as string });
    assert.equal(old.key?.crv, 'P-256');
    assert.deepEqual(Buffer.from(old.key?.x ?? []), Buffer.from(first.key?.x ?? []));
    assertPublicOnly(old.key);
    assert.equal((await client.getKey('VERSIONED')).properties.version, second.properties.version);
    await rejectsWith(client.getKey('no-such-key'), 404, 'KeyNotFound');
    await rejectsWith(client.getKey('versioned', { version: '0'.repeat(32) }), 404, 'KeyNotFound');
  });

  it('updates key_ops, enabled, expiresOn and tags of a version, or of the latest', async () => {
    const key = await client.createRsaKey('updatable', { tags: { a: '1' } });
    const version = key.properties.version as string;
    const expiresOn = new Date('2035-06-01T00:00:00Z');
    const updated = await client.updateKeyProperties('updatable', version, {
      keyOps: ['sign', 'verify'],
      enabled: false,
      expiresOn,
      tags: { a: '2', b: 'x' },
    });
    assert.deepEqual(updated.keyOperations, ['sign', 'verify']);
    assert.equal(updated.properties.enabled, false);
    assert.equal(updated.properties.expiresOn?.toISOString(), expiresOn.toISOString());
    assert.deepEqual(updated.properties.tags, { a: '2', b: 'x' });
    assert.ok((updated.properties.updatedOn as Date) >= (key.properties.updatedOn as Date));
    assertPublicOnly(updated.key);
    assert.deepEqual(Buffer.from(updated.key?.n ?? []), Buffer.from(key.key?.n ?? []), 'the key is the same');

    const got = await client.getKey('updatable', { version });
    assert.deepEqual(got.keyOperations, ['sign', 'verify']);
    assert.equal(got.properties.enabled, false);

    // The latest (no version), re-enabled; key_ops keep what they were.
    const latest = await client.updateKeyProperties('updatable', { enabled: true, tags: {} });
    assert.equal(latest.properties.version, version);
    assert.equal(latest.properties.enabled, true);
    assert.deepEqual(latest.keyOperations, ['sign', 'verify']);

    // The vault enforces the new key_ops (a client that reads the key refuses even sooner).
    const crypto = fixture.cryptoClient(latest.id as string);
    await assert.rejects(crypto.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: Buffer.from('x') }));
    const digest = createHash('sha256').update('ok').digest();
    assert.equal((await crypto.sign('RS256', digest)).result.length, 256);

    await rejectsWith(
      client.updateKeyProperties('updatable', version, { keyOps: ['sign', 'frobnicate' as never] }),
      400,
      'BadParameter',
    );
    await rejectsWith(client.updateKeyProperties('no-such-key', { enabled: true }), 404, 'KeyNotFound');
  });

  it('lists keys, versions and deleted keys page by page through the SDK iterators, without key material', async () => {
    const names = ['list-a', 'list-b', 'list-c', 'list-d', 'list-e'];
    for (const name of names) await client.createEcKey(name);
    for (let i = 0; i < 3; i++) await client.createEcKey('list-versions');

    const keyPages = await pages(client.listPropertiesOfKeys(), 2);
    assert.ok(keyPages.length > 1, 'more than one page');
    assert.ok(keyPages.every((page) => page.length <= 2));
    const listed = keyPages.flat().map((p) => p.name);
    assert.equal(new Set(listed).size, listed.length, 'no key twice');
    for (const name of [...names, 'list-versions', 'rsa-2048']) assert.ok(listed.includes(name), name);
    const all = await collect(client.listPropertiesOfKeys());
    assert.deepEqual(all.map((p) => p.name).sort(), [...listed].sort());
    for (const p of all) {
      assert.equal((p as unknown as { key?: unknown }).key, undefined, 'lists carry no JWK');
      assert.equal(p.id, `${fixture.info.vaultUrl}/keys/${p.name}`);
    }

    const versionPages = await pages(client.listPropertiesOfKeyVersions('list-versions'), 1);
    assert.equal(versionPages.length, 3);
    const versions = versionPages.flat();
    assert.equal(new Set(versions.map((v) => v.version)).size, 3);
    for (const v of versions) {
      assert.match(v.version ?? '', VERSION);
      assert.equal(v.id, `${fixture.info.vaultUrl}/keys/list-versions/${v.version}`);
    }
    await assert.rejects(collect(client.listPropertiesOfKeyVersions('no-such-key')), { statusCode: 404 });

    for (const name of ['list-a', 'list-b', 'list-c'])
      await (await client.beginDeleteKey(name, poll)).pollUntilDone();
    const deletedPages: DeletedKey[][] = [];
    for await (const page of client.listDeletedKeys().byPage({ maxPageSize: 2 })) deletedPages.push(page);
    assert.ok(deletedPages.length >= 2);
    const deleted = deletedPages.flat();
    assert.deepEqual(deleted.map((d) => d.name).sort(), ['list-a', 'list-b', 'list-c']);
    for (const d of deleted) {
      assertPublicOnly(d.key ?? {}, 'a deleted key item');
      assert.ok(d.properties.recoveryId?.endsWith(`/deletedkeys/${d.name}`));
      assert.ok(d.properties.deletedOn instanceof Date);
      assert.ok(d.properties.scheduledPurgeDate instanceof Date);
    }
    const live = (await collect(client.listPropertiesOfKeys())).map((p) => p.name);
    assert.ok(!live.includes('list-a'), 'a deleted key is not listed');
  });

  it('deletes with the beginDeleteKey poller, recovers, and purges', async () => {
    const key = await client.createRsaKey('doomed');
    const poller = await client.beginDeleteKey('doomed', poll);
    const deleted = await poller.pollUntilDone();
    assert.equal(deleted.name, 'doomed');
    assert.equal(deleted.properties.recoveryId, `${fixture.info.vaultUrl}/deletedkeys/doomed`);
    assert.ok(deleted.properties.deletedOn instanceof Date);
    const days =
      ((deleted.properties.scheduledPurgeDate as Date).getTime() -
        (deleted.properties.deletedOn as Date).getTime()) /
      86_400_000;
    assert.equal(Math.round(days), 90);
    assertPublicOnly(deleted.key);
    assert.deepEqual(Buffer.from(deleted.key?.n ?? []), Buffer.from(key.key?.n ?? []));

    await rejectsWith(client.getKey('doomed'), 404, 'KeyNotFound');
    const got = await client.getDeletedKey('doomed');
    assertPublicOnly(got.key);
    assert.equal(got.properties.version, key.properties.version);
    await rejectsWith(client.createRsaKey('doomed'), 409, 'Conflict');
    await rejectsWith(
      fixture.cryptoClient(key.id as string).sign('RS256', Buffer.alloc(32)),
      404,
      'KeyNotFound',
    );

    const recovered = await (await client.beginRecoverDeletedKey('doomed', poll)).pollUntilDone();
    assert.equal(recovered.properties.version, key.properties.version);
    assertPublicOnly(recovered.key);
    const digest = createHash('sha256').update('back').digest();
    const signature = (await fixture.cryptoClient(recovered).sign('RS256', digest)).result;
    assert.ok(
      verify('sha256', Buffer.from('back'), publicKeyOf(key), signature),
      'the recovered key is the same key',
    );
    await rejectsWith(client.getDeletedKey('doomed'), 404, 'KeyNotFound');

    await (await client.beginDeleteKey('doomed', poll)).pollUntilDone();
    await client.purgeDeletedKey('doomed');
    await rejectsWith(client.getDeletedKey('doomed'), 404, 'KeyNotFound');
    await rejectsWith(client.getKey('doomed'), 404, 'KeyNotFound');
    await rejectsWith(client.purgeDeletedKey('doomed'), 404, 'KeyNotFound');
    const reborn = await client.createRsaKey('doomed');
    assert.notDeepEqual(
      Buffer.from(reborn.key?.n ?? []),
      Buffer.from(key.key?.n ?? []),
      'a purged name is free again',
    );
    await rejectsWith(
      client.beginDeleteKey('no-such-key', poll).then((p) => p.pollUntilDone()),
      404,
      'KeyNotFound',
    );
  });

  it('backs up, deletes, purges and restores a key with every version; the restored key is the same key', async () => {
    const local = nodeRsaKey(2048);
    const first = await client.importKey('backed-up', sdkJwkOf(local.jwk), { tags: { v: '1' } });
    const second = await client.createRsaKey('backed-up', { keySize: 3072 });
    const backup = await client.backupKey('backed-up');
    assert.ok(backup instanceof Uint8Array && backup.length > 0);
    const text = Buffer.from(backup as Uint8Array).toString('latin1');
    for (const member of ['"d"', '"p"', '"q"', 'PRIVATE KEY']) assert.ok(!text.includes(member), member);

    await rejectsWith(client.restoreKeyBackup(backup as Uint8Array), 409, 'Conflict');
    await (await client.beginDeleteKey('backed-up', poll)).pollUntilDone();
    await client.purgeDeletedKey('backed-up');
    await rejectsWith(client.getKey('backed-up'), 404, 'KeyNotFound');

    const restored = await client.restoreKeyBackup(backup as Uint8Array);
    assert.equal(restored.name, 'backed-up');
    assert.equal(restored.properties.version, second.properties.version);
    assertPublicOnly(restored.key);
    const versions = await collect(client.listPropertiesOfKeyVersions('backed-up'));
    assert.deepEqual(
      versions.map((v) => v.version).sort(),
      [first.properties.version, second.properties.version].sort(),
    );
    const old = await client.getKey('backed-up', { version: first.properties.version as string });
    assert.deepEqual(old.properties.tags, { v: '1' });
    const digest = createHash('sha512').update('restored').digest();
    const signature = (await fixture.cryptoClient(old).sign('PS512', digest)).result;
    assert.ok(
      verify(
        'sha512',
        Buffer.from('restored'),
        { key: local.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
        signature,
      ),
      'node verifies a signature of the restored key with the public key it made',
    );

    const tampered = Buffer.from(backup as Uint8Array);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 1;
    await (await client.beginDeleteKey('backed-up', poll)).pollUntilDone();
    await client.purgeDeletedKey('backed-up');
    await rejectsWith(client.restoreKeyBackup(tampered), 400, 'BadParameter');
    await rejectsWith(client.restoreKeyBackup(Buffer.from('not a backup')), 400, 'BadParameter');
    await rejectsWith(client.backupKey('no-such-key'), 404, 'KeyNotFound');
  });

  it('rotates a key: a new version of the same kind; the old version still decrypts and verifies', async () => {
    const original = await client.createRsaKey('rotated', {
      keySize: 3072,
      tags: { team: 'x' },
      keyOps: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
    });
    const oldPublic = publicKeyOf(original);
    const digest = createHash('sha256').update('signed before rotation').digest();
    const oldSignature = (await fixture.cryptoClient(original).sign('PS256', digest)).result;
    const ciphertext = publicEncrypt(
      { key: oldPublic, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('sealed before rotation'),
    );

    const rotated = await client.rotateKey('rotated');
    assert.notEqual(rotated.properties.version, original.properties.version);
    assert.equal(rotated.keyType, 'RSA');
    assert.equal(rotated.key?.n?.length, 384, 'same size');
    assert.deepEqual(rotated.properties.tags, { team: 'x' });
    assert.notDeepEqual(Buffer.from(rotated.key?.n ?? []), Buffer.from(original.key?.n ?? []));
    assertPublicOnly(rotated.key);
    assert.equal((await client.getKey('rotated')).properties.version, rotated.properties.version);

    const old = fixture.cryptoClient(original.id as string);
    assert.equal((await old.verify('PS256', digest, oldSignature)).result, true);
    const opened = await old.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext });
    assert.equal(Buffer.from(opened.result).toString(), 'sealed before rotation');
    assert.equal(opened.keyID, original.id);

    const latest = fixture.cryptoClient(rotated);
    assert.equal((await latest.verify('PS256', digest, oldSignature)).result, false, 'another key now');
    const newSignature = (await latest.sign('PS256', digest)).result;
    assert.ok(
      verify(
        'sha256',
        Buffer.from('signed before rotation'),
        { key: publicKeyOf(rotated), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        newSignature,
      ),
    );

    const ec = await client.createEcKey('rotated-ec', { curve: 'P-521' });
    const ecRotated = await client.rotateKey('rotated-ec');
    assert.equal(ecRotated.key?.crv, 'P-521');
    assert.notEqual(ecRotated.properties.version, ec.properties.version);
    await rejectsWith(client.rotateKey('no-such-key'), 404, 'KeyNotFound');
  });

  it('KeyClient.getCryptographyClient(name, { keyVersion }) works against the vault', async () => {
    const key = await client.createRsaKey('from-key-client');
    const crypto = client.getCryptographyClient('from-key-client', {
      keyVersion: key.properties.version as string,
    });
    const digest = createHash('sha256').update('shared pipeline').digest();
    const signed = await crypto.sign('RS256', digest);
    assert.equal(signed.keyID, key.id);
    assert.ok(verify('sha256', Buffer.from('shared pipeline'), publicKeyOf(key), signed.result));
  });

  it('KeyClient.getCryptographyClient(name) without a version uses the latest (/keys/{name}//sign)', async () => {
    const key = await client.createRsaKey('versionless');
    const digest = createHash('sha256').update('latest').digest();
    const signed = await client.getCryptographyClient('versionless').sign('RS256', digest);
    assert.equal(signed.keyID, key.id);
  });

  it('gives random bytes (1 to 128) from the vault', async () => {
    const a = await client.getRandomBytes(32);
    const b = await client.getRandomBytes(32);
    assert.equal(a.length, 32);
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
    assert.equal((await client.getRandomBytes(1)).length, 1);
    assert.equal((await client.getRandomBytes(128)).length, 128);
    await rejectsWith(client.getRandomBytes(0), 400, 'BadParameter');
    await rejectsWith(client.getRandomBytes(129), 400, 'BadParameter');
  });
});
