import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { vaultUrlFor } from '#lib/events/events-config.ts';
import { type ExpirySweepDeps, makeExpirySweep } from '#lib/events/expiry-sweep.ts';
import type { ObjectEventData, VaultEvent } from '#lib/events/vault-events.ts';
import type { SecretVersion } from '#lib/secrets/model.ts';
import { DynamoExpiryIndex, monthBuckets } from '#lib/store/dynamo-expiry-index.ts';
import { DynamoSecretStore } from '#lib/store/dynamo-secret-store.ts';
import { dynamoClient, freshTable } from '../support/environment.ts';

const vault = 'payments';
const DAY = 86_400;
const nowMs = Date.now();
const now = Math.floor(nowMs / 1000);

const version = (name: string, exp: number, overrides: Partial<SecretVersion> = {}): SecretVersion => ({
  name,
  version: randomBytes(16).toString('hex'),
  attributes: { enabled: true, created: now - 100 * DAY, updated: now - 100 * DAY, exp },
  sealed: {
    keyring: 'test',
    wrappedKey: randomBytes(61),
    iv: randomBytes(12),
    tag: randomBytes(16),
    ciphertext: randomBytes(40),
  },
  ...overrides,
});

/**
 * The scenario of the issue: which of these secrets are due, and for what.
 * Returns the versions by name.
 */
async function storeSecrets(store: DynamoSecretStore): Promise<Map<string, SecretVersion>> {
  const secrets = [
    version('in-10-days', now + 10 * DAY),
    version('in-40-days', now + 40 * DAY),
    version('expired-yesterday', now - DAY + 600),
    version('in-40-days-tagged-60', now + 40 * DAY, { tags: { 'arca-near-expiry-days': '60' } }),
    version('disabled-in-10-days', now + 10 * DAY, {
      attributes: { enabled: false, created: now, updated: now, exp: now + 10 * DAY },
    }),
    version('deleted-in-10-days', now + 10 * DAY),
    version('in-200-days', now + 200 * DAY),
  ];
  for (const s of secrets) await store.putVersion(vault, s);
  await store.softDelete(vault, 'deleted-in-10-days', {
    deletedDate: now,
    scheduledPurgeDate: now + 90 * DAY,
  });
  return new Map(secrets.map((s) => [s.name, s]));
}

function sweepOver(client: DynamoDBClient, table: string, published: VaultEvent[]) {
  const index = new DynamoExpiryIndex(client, table);
  const deps: ExpirySweepDeps = {
    queryExpiring: (from, to) => index.queryExpiring(from, to),
    notifiedAmong: (keys) => index.notifiedAmong(keys),
    markNotified: (key) => index.markNotified(key),
    forgetNotified: (key) => index.forgetNotified(key),
    publish: async (events) => {
      published.push(...events);
      return { failedIds: [] };
    },
    now: () => nowMs,
    vaultUrl: vaultUrlFor('vault.example.com'),
  };
  return { deps, sweep: makeExpirySweep(deps) };
}

const summary = (events: readonly VaultEvent[]) =>
  events.map((e) => `${e.eventType} ${(e.data as ObjectEventData).ObjectName}`).sort();

const expected = [
  'Microsoft.KeyVault.SecretExpired expired-yesterday',
  'Microsoft.KeyVault.SecretNearExpiry in-10-days',
  'Microsoft.KeyVault.SecretNearExpiry in-40-days-tagged-60',
];

describe('the expiry sweep on DynamoDB Local', () => {
  let client: DynamoDBClient;
  before(() => {
    client = dynamoClient();
  });
  after(() => client.destroy());

  it('publishes NearExpiry within each threshold and Expired, for live enabled secrets only', async () => {
    const table = await freshTable(client);
    const secrets = await storeSecrets(new DynamoSecretStore(client, table));
    const published: VaultEvent[] = [];
    const result = await sweepOver(client, table, published).sweep();
    assert.deepEqual(summary(published), expected);
    assert.deepEqual(result.published.sort(), published.map((e) => e.id).sort());

    const near = published.find((e) => (e.data as ObjectEventData).ObjectName === 'in-10-days');
    const v = secrets.get('in-10-days') as SecretVersion;
    assert.deepEqual(near?.data, {
      Id: `https://payments.vault.example.com/secrets/in-10-days/${v.version}`,
      VaultName: 'payments',
      ObjectType: 'Secret',
      ObjectName: 'in-10-days',
      Version: v.version,
      NBF: null,
      EXP: now + 10 * DAY,
    });
    assert.equal(near?.topic, '/providers/Microsoft.KeyVault/vaults/payments');
  });

  it('publishes nothing on a second sweep (sweep idempotence)', async () => {
    const table = await freshTable(client);
    await storeSecrets(new DynamoSecretStore(client, table));
    const published: VaultEvent[] = [];
    const { sweep } = sweepOver(client, table, published);
    await sweep();
    assert.deepEqual(summary(published), expected);
    const second = await sweep();
    assert.equal(published.length, 3, 'nothing more');
    assert.deepEqual(second.published, []);
    assert.equal(second.due, 3, 'the same three are still due, and known to be sent');
  });

  it('publishes each event once when two sweeps run at the same time', async () => {
    const table = await freshTable(client);
    await storeSecrets(new DynamoSecretStore(client, table));
    const published: VaultEvent[] = [];
    // Without the marker read, both sweeps race on the conditional writes alone.
    const a = sweepOver(client, table, published);
    const b = sweepOver(client, table, published);
    const { notifiedAmong: _a, ...racingA } = a.deps;
    const { notifiedAmong: _b, ...racingB } = b.deps;
    await Promise.all([makeExpirySweep(racingA)(), makeExpirySweep(racingB)(), a.sweep(), b.sweep()]);
    assert.deepEqual(summary(published), expected);
  });

  it('publishes again, in a later sweep, what failed to publish', async () => {
    const table = await freshTable(client);
    await storeSecrets(new DynamoSecretStore(client, table));
    const published: VaultEvent[] = [];
    const { deps } = sweepOver(client, table, published);
    const failing = makeExpirySweep({
      ...deps,
      publish: async (events) => ({ failedIds: events.map((e) => e.id), problems: ['ThrottlingException'] }),
    });
    const first = await failing();
    assert.equal(first.failed.length, 3);
    await makeExpirySweep(deps)();
    assert.deepEqual(summary(published), expected);
  });

  it('publishes NearExpiry again for a new version, and for a changed threshold', async () => {
    const table = await freshTable(client);
    const store = new DynamoSecretStore(client, table);
    const first = version('rotated', now + 10 * DAY);
    await store.putVersion(vault, first);
    const published: VaultEvent[] = [];
    const { sweep } = sweepOver(client, table, published);
    await sweep();
    const next = version('rotated', now + 20 * DAY);
    await store.putVersion(vault, next);
    await sweep();
    await store.updateVersion(
      vault,
      'rotated',
      next.version,
      { tags: { 'arca-near-expiry-days': '25' } },
      now,
    );
    await sweep();
    await sweep();
    assert.deepEqual(
      published.map((e) => (e.data as ObjectEventData).Version),
      [first.version, next.version, next.version],
    );
    assert.equal(new Set(published.map((e) => e.id)).size, 3);
  });

  it('queries one bucket per month of the window', () => {
    assert.deepEqual(monthBuckets('2025-11-30T00:00:00.000Z', '2026-02-28T00:00:00.000Z'), [
      'exp#2025-11',
      'exp#2025-12',
      'exp#2026-01',
      'exp#2026-02',
    ]);
  });
});
