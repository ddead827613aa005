import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '#lib/errors.ts';
import type { SecretVersion } from '#lib/secrets/model.ts';
import { DynamoSecretStore } from '#lib/store/dynamo-secret-store.ts';
import { dynamoClient, freshTable } from '../support/environment.ts';

const vault = 'dev';
const sealed = () => ({
  keyring: 'test',
  wrappedKey: randomBytes(61),
  iv: randomBytes(12),
  tag: randomBytes(16),
  ciphertext: randomBytes(40),
});
const version = (name: string, overrides: Partial<SecretVersion> = {}): SecretVersion => ({
  name,
  version: randomBytes(16).toString('hex'),
  attributes: { enabled: true, created: 1_700_000_000, updated: 1_700_000_000 },
  sealed: sealed(),
  ...overrides,
});

describe('DynamoSecretStore on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let store: DynamoSecretStore;
  let table: string;

  before(async () => {
    client = dynamoClient();
    table = await freshTable(client);
    store = new DynamoSecretStore(client, table);
  });
  after(() => client.destroy());

  it('makes each new version the latest and keeps the older ones readable', async () => {
    const first = version('Alpha', { contentType: 'text/plain', tags: { a: '1' } });
    const second = version('alpha');
    await store.putVersion(vault, first);
    await store.putVersion(vault, second);
    const head = await store.getHead(vault, 'ALPHA');
    assert.equal(head?.latest.version, second.version);
    assert.equal(head?.latest.name, 'Alpha', 'the first spelling of the name is kept');
    assert.equal(head?.latest.contentType, undefined, "the head carries the latest version's fields only");
    const old = await store.getVersion(vault, 'alpha', first.version);
    assert.equal(old?.version.contentType, 'text/plain');
    assert.deepEqual(old?.version.sealed.ciphertext, first.sealed.ciphertext);
  });

  it('never loses a version when many writers set the same secret at once', async () => {
    const writes = Array.from({ length: 20 }, () => version('contended'));
    await Promise.all(writes.map((w) => store.putVersion(vault, w)));
    const listed = [];
    let token: string | undefined;
    do {
      const page = await store.listVersions(vault, 'contended', { maxResults: 7, ...(token && { token }) });
      listed.push(...(page?.items ?? []));
      token = page?.nextToken;
    } while (token);
    assert.deepEqual(listed.map((v) => v.version).sort(), writes.map((w) => w.version).sort());
    const head = await store.getHead(vault, 'contended');
    assert.ok(
      writes.some((w) => w.version === head?.latest.version),
      'latest is one of the written versions',
    );
    const latest = writes.find((w) => w.version === head?.latest.version) as SecretVersion;
    assert.deepEqual(
      head?.latest.sealed.ciphertext,
      latest.sealed.ciphertext,
      "the head holds exactly that version's value",
    );
  });

  it('refuses a new version while the name is soft-deleted, and writes nothing', async () => {
    await store.putVersion(vault, version('gone'));
    const deleted = await store.softDelete(vault, 'gone', { deletedDate: 1, scheduledPurgeDate: 2 });
    assert.equal(deleted?.deletion?.scheduledPurgeDate, 2);
    const attempt = version('gone');
    await assert.rejects(store.putVersion(vault, attempt), ConflictError);
    const stray = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { pk: { S: 'dev/secrets/gone' }, sk: { S: `v#${attempt.version}` } },
      }),
    );
    assert.equal(stray.Item, undefined, 'the refused version was not stored');
  });

  it('moves a secret between the live and deleted lists on delete and recover', async () => {
    await store.putVersion(vault, version('listed'));
    await store.softDelete(vault, 'listed', { deletedDate: 10, scheduledPurgeDate: 20 });
    const deletedNames = (await store.listDeletedSecrets(vault, { maxResults: 25 })).items.map((s) => s.name);
    assert.ok(deletedNames.includes('listed'));
    assert.ok(!(await store.listSecrets(vault, { maxResults: 25 })).items.some((s) => s.name === 'listed'));
    assert.equal(await store.listVersions(vault, 'listed', { maxResults: 25 }), undefined);
    const recovered = await store.recover(vault, 'listed');
    assert.equal(recovered?.deletion, undefined);
    assert.ok((await store.listSecrets(vault, { maxResults: 25 })).items.some((s) => s.name === 'listed'));
  });

  it('purges every version of a deleted secret and only of a deleted one', async () => {
    const versions = Array.from({ length: 30 }, () => version('purged'));
    for (const v of versions) await store.putVersion(vault, v);
    assert.equal(await store.purge(vault, 'purged'), false, 'a live secret is not purged');
    await store.softDelete(vault, 'purged', { deletedDate: 1, scheduledPurgeDate: 2 });
    assert.equal(await store.purge(vault, 'purged'), true);
    assert.equal(await store.getHead(vault, 'purged'), undefined);
    assert.equal(await store.getVersion(vault, 'purged', versions[0]?.version as string), undefined);
    assert.equal(await store.allVersions(vault, 'purged'), undefined);
    await store.putVersion(vault, version('purged'));
    assert.ok(await store.getHead(vault, 'purged'), 'the name is free again');
  });

  it('updates one version and the head copy when it is the latest', async () => {
    const old = version('patched');
    const latest = version('patched');
    await store.putVersion(vault, old);
    await store.putVersion(vault, latest);
    await store.updateVersion(
      vault,
      'patched',
      latest.version,
      { tags: { t: 'x' }, attributes: { enabled: false } },
      99,
    );
    await store.updateVersion(vault, 'patched', old.version, { contentType: 'old' }, 98);
    const head = await store.getHead(vault, 'patched');
    assert.deepEqual(head?.latest.tags, { t: 'x' });
    assert.equal(head?.latest.attributes.enabled, false);
    assert.equal(head?.latest.attributes.updated, 99);
    assert.equal(head?.latest.contentType, undefined);
    const oldNow = await store.getVersion(vault, 'patched', old.version);
    assert.equal(oldNow?.version.contentType, 'old');
    assert.equal(await store.updateVersion(vault, 'patched', 'f'.repeat(32), {}, 1), undefined);
  });

  it('pages the secret list with opaque tokens that resume where the last page ended', async () => {
    const other = 'pagedvault';
    const names = Array.from({ length: 11 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const n of names) await store.putVersion(other, version(n));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.listSecrets(other, { maxResults: 4, ...(token && { token }) });
      seen.push(...page.items.map((s) => s.name));
      assert.ok(
        page.items.every((s) => !('sealed' in s)),
        'list entries carry no sealed value',
      );
      token = page.nextToken;
      pages++;
    } while (token);
    assert.deepEqual(seen, names);
    assert.equal(pages, 3);
  });

  it('restores only onto a free name, all versions at once', async () => {
    const versions = [version('restored'), version('restored')];
    await store.restore(vault, versions, versions[1]?.version as string);
    assert.equal((await store.getHead(vault, 'restored'))?.latest.version, versions[1]?.version);
    assert.equal((await store.allVersions(vault, 'restored'))?.length, 2);
    await assert.rejects(store.restore(vault, [version('restored')], 'x'.repeat(32)), Error);
    const again = version('restored');
    await assert.rejects(store.restore(vault, [again], again.version), ConflictError);
  });

  it('keeps the expiry index in step with the latest version, so the sweep never scans', async () => {
    const exp = Date.UTC(2031, 4, 15) / 1000;
    const inIndex = async () => {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'byExpiry',
          KeyConditionExpression: 'expBucket = :b',
          ExpressionAttributeValues: { ':b': { S: 'exp#2031-05' } },
        }),
      );
      return (out.Items ?? []).filter((i) => i.displayName?.S === 'expiring').length;
    };
    await store.putVersion(
      vault,
      version('expiring', { attributes: { enabled: true, created: 1, updated: 1, exp } }),
    );
    assert.equal(await inIndex(), 1);
    const latest = version('expiring');
    await store.putVersion(vault, latest);
    assert.equal(await inIndex(), 0, 'the new latest version does not expire');
    await store.updateVersion(vault, 'expiring', latest.version, { attributes: { exp } }, 5);
    assert.equal(await inIndex(), 1, 'an update that sets exp on the latest version indexes it');
  });
});
