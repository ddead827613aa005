import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { Barrier } from '#lib/crypto/barrier.ts';
import { LocalKeyring } from '#lib/crypto/local-keyring.ts';
import { BadParameterError } from '#lib/errors.ts';
import { vaultUrlFor } from '#lib/events/events-config.ts';
import { expirySweepOver } from '#lib/events/expiry-sweep.ts';
import type { ObjectEventData, VaultEvent } from '#lib/events/vault-events.ts';
import { makeCreateKey } from '#lib/keys/create-key.ts';
import { makeDecrypt, makeEncrypt, makeSign, makeVerify } from '#lib/keys/key-crypto-operations.ts';
import { decodeFacts } from '#lib/keys/key-facts.ts';
import type { KeysDeps } from '#lib/keys/keys-deps.ts';
import { rotateVersion } from '#lib/keys/rotate-key.ts';
import { makeUpdateKeyRotationPolicy, type RotationPolicyInput } from '#lib/keys/rotation-policy.ts';
import { makeRotationSweep, ROTATION_SWEEP_CALLER } from '#lib/keys/rotation-sweep.ts';
import { softwareBackend } from '#lib/keys/software/software-backend.ts';
import { createAuditTableIfMissing } from '#lib/store/create-table.ts';
import { DynamoExpiryIndex } from '#lib/store/dynamo-expiry-index.ts';
import { DynamoKeyStore } from '#lib/store/dynamo-key-store.ts';
import { RotationSupersededError } from '#lib/store/key-store.ts';
import type { Vault } from '#lib/vaults/model.ts';
import { dynamoClient, freshTable } from '../support/environment.ts';

const DAY = 86_400;
const T0 = Math.floor(Date.UTC(2026, 0, 10) / 1000);
const VAULT = 'payments';
const vaultUrl = vaultUrlFor('vault.example.com');
const view = { name: VAULT, url: vaultUrl(VAULT), retentionDays: 90, purgeProtection: false };

const vaultRecord = (overrides: Partial<Vault> = {}): Vault =>
  ({
    name: VAULT,
    tenantId: 't',
    sku: 'premium',
    enableRbacAuthorization: true,
    accessPolicies: [],
    roleAssignments: [],
    softDeleteRetentionInDays: 90,
    enablePurgeProtection: false,
    createdAt: T0,
    createdBy: 'test',
    updatedAt: T0,
    revision: 1,
    ...overrides,
  }) as Vault;

describe('the key rotation sweep, on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let auditTable: string;
  let store: DynamoKeyStore;
  /** The clock every use case and sweep reads (Unix seconds). */
  let clock = T0;
  let deps: KeysDeps;
  const vaults = new Map<string, Vault>([[VAULT, vaultRecord()]]);

  const sweep = () =>
    makeRotationSweep({ keys: deps, vaults: { get: async (n) => vaults.get(n) }, vaultUrl })();
  const createKey = (name: string, input: Parameters<ReturnType<typeof makeCreateKey>>[2]) =>
    makeCreateKey(deps)({ name: VAULT, sku: 'premium' }, name, input);
  const setPolicy = (name: string, policy: RotationPolicyInput) =>
    makeUpdateKeyRotationPolicy(deps)(VAULT, name, policy);
  const versions = async (name: string) => (await store.versionsOf(VAULT, name)).map((v) => v.version);
  const rotateAfter90Days: RotationPolicyInput = {
    lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }],
    attributes: { expiryTime: 'P1Y' },
  };

  /** The audit records the sweep wrote, read straight from the audit table. */
  async function sweepRecords(): Promise<AuditRecord[]> {
    const out = await client.send(new ScanCommand({ TableName: auditTable, ConsistentRead: true }));
    return (out.Items ?? [])
      .map((item) => JSON.parse(item.record?.S ?? '{}') as AuditRecord)
      .filter((r) => r.identity?.claim?.oid === ROTATION_SWEEP_CALLER);
  }

  before(async () => {
    client = dynamoClient();
    const table = await freshTable(client);
    auditTable = `${table}-audit`;
    await createAuditTableIfMissing(client, auditTable);
    store = new DynamoKeyStore(client, table, { name: auditTable, hotDays: 1 });
    deps = {
      store,
      barrier: new Barrier(LocalKeyring.fromKey(randomBytes(32))),
      backends: {
        software: softwareBackend,
        hsmKind: 'off',
        hsm: () => Promise.reject(new BadParameterError('no HSM in this test')),
      },
      now: () => clock,
      newVersionId: () => randomBytes(16).toString('hex'),
    };
  });
  after(() => client.destroy());

  it('rotates a due key exactly once, even with two sweeps at once, and old versions keep working', async () => {
    clock = T0;
    const first = await createKey('Signing', {
      kty: 'RSA',
      key_size: 3072,
      key_ops: ['sign', 'verify', 'encrypt', 'decrypt'],
      tags: { team: 'payments' },
    });
    await setPolicy('signing', rotateAfter90Days);
    const digest = createHash('sha256').update('ledger entry').digest().toString('base64url');
    const signature = await makeSign(deps)(view, 'Signing', first.version, { alg: 'PS256', value: digest });
    const sealedMessage = await makeEncrypt(deps)(view, 'Signing', first.version, {
      alg: 'RSA-OAEP-256',
      value: Buffer.from('kept secret').toString('base64url'),
    });

    clock = T0 + 89 * DAY;
    const early = await sweep();
    assert.deepEqual(early.rotated, [], 'not due before 90 days');
    assert.deepEqual(await versions('Signing'), [first.version]);

    clock = T0 + 91 * DAY;
    const [a, b] = await Promise.all([sweep(), sweep()]);
    assert.deepEqual([...a.failed, ...b.failed], []);
    assert.ok(a.rotated.length + b.rotated.length <= 1, 'two sweeps at once made two versions');
    // Should both have lost to each other (a transaction conflict), the next sweep rotates; never twice.
    const later = await sweep();
    assert.equal(a.rotated.length + b.rotated.length + later.rotated.length, 1);
    const all = await versions('Signing');
    assert.equal(all.length, 2);
    const head = await store.getHead(VAULT, 'Signing');
    assert.ok(head);
    const rotated = head.latest;
    assert.notEqual(rotated.version, first.version);
    assert.ok(all.includes(rotated.version));

    // The same type, size, operations and tags; expiring expiryTime after the rotation.
    const before = decodeFacts(first.facts);
    const now = decodeFacts(rotated.facts);
    assert.equal(now.kty, 'RSA');
    assert.equal(now.keySize, 3072);
    assert.deepEqual(now.keyOps, before.keyOps);
    assert.notEqual(now.n, before.n);
    assert.deepEqual(rotated.tags, { team: 'payments' });
    assert.equal(rotated.attributes.created, T0 + 91 * DAY);
    assert.equal(rotated.attributes.exp, Date.UTC(2027, 3, 11) / 1000);
    assert.equal((await store.getRotationPolicy(VAULT, 'signing'))?.rotatedFrom, first.version);

    // The old version still verifies and decrypts; the key's latest is the new one.
    const verified = await makeVerify(deps)(view, 'Signing', first.version, {
      alg: 'PS256',
      digest,
      value: signature.value as string,
    });
    assert.equal(verified.value, true);
    const opened = await makeDecrypt(deps)(view, 'Signing', first.version, {
      alg: 'RSA-OAEP-256',
      value: sealedMessage.value as string,
    });
    assert.equal(Buffer.from(opened.value as string, 'base64url').toString(), 'kept secret');
    const signedNow = await makeSign(deps)(view, 'Signing', undefined, { alg: 'PS256', value: digest });
    assert.equal(signedNow.kid, `${view.url}/keys/Signing/${rotated.version}`);

    // One audit record, KeyRotate by the service, naming the new version.
    const records = await sweepRecords();
    assert.equal(records.length, 1);
    const [record] = records;
    assert.equal(record?.operationName, 'KeyRotate');
    assert.equal(record?.vault, VAULT);
    assert.equal(record?.resultType, 'Success');
    assert.equal(record?.properties.id, `${view.url}/keys/Signing/${rotated.version}`);
    assert.deepEqual(record?.properties.accessGrant, {
      via: 'rotationPolicy',
      id: `${view.url}/keys/Signing/rotationpolicy`,
    });

    // The new version is not due until 90 days after it was made.
    clock = T0 + 150 * DAY;
    assert.deepEqual((await sweep()).rotated, []);
    clock = T0 + 182 * DAY;
    assert.equal((await sweep()).rotated.length, 1);
    assert.equal((await versions('Signing')).length, 3);
  });

  it('lands a rotation only while the version it replaces is the latest', async () => {
    clock = T0;
    const first = await createKey('guarded', { kty: 'EC', crv: 'P-256' });
    await setPolicy('guarded', rotateAfter90Days);
    clock = T0 + 100 * DAY;
    const vault = { name: VAULT, sku: 'premium' as const };
    await rotateVersion(deps, vault, first, undefined, { once: true });
    // A second rotation from the same (now stale) version is refused and makes nothing.
    await assert.rejects(
      rotateVersion(deps, vault, first, undefined, { once: true }),
      (error) => error instanceof RotationSupersededError && error.status === 409,
    );
    assert.equal((await versions('guarded')).length, 2);
  });

  it('rotates at timeBeforeExpiry, and leaves keys that are not due alone', async () => {
    clock = T0;
    await createKey('expiring', { kty: 'EC', crv: 'P-384', attributes: { exp: T0 + 60 * DAY } });
    await setPolicy('expiring', {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P90D' },
    });
    await createKey('fresh', { kty: 'EC' });
    await setPolicy('fresh', rotateAfter90Days);
    await createKey('notify-only', { kty: 'EC', attributes: { exp: T0 + 10 * DAY } });
    await setPolicy('notify-only', {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }],
    });

    clock = T0 + 29 * DAY;
    assert.deepEqual((await sweep()).rotated, []);
    clock = T0 + 31 * DAY;
    const result = await sweep();
    assert.deepEqual(
      result.rotated.map((r) => r.split('/').slice(0, 2).join('/')),
      ['payments/expiring'],
    );
    const head = await store.getHead(VAULT, 'expiring');
    assert.equal(head?.latest.attributes.exp, T0 + 31 * DAY + 90 * DAY);
    assert.equal(decodeFacts(head?.latest.facts).crv, 'P-384');
    assert.equal((await versions('fresh')).length, 1);
    assert.equal((await versions('notify-only')).length, 1);
  });

  it('leaves deleted keys, disabled keys and keys of deleted vaults alone', async () => {
    clock = T0;
    await createKey('deleted', { kty: 'EC' });
    await setPolicy('deleted', rotateAfter90Days);
    await store.softDelete(VAULT, 'deleted', { deletedDate: T0 + DAY, scheduledPurgeDate: T0 + 91 * DAY });
    await createKey('disabled', { kty: 'EC', attributes: { enabled: false } });
    await setPolicy('disabled', rotateAfter90Days);
    const elsewhere = 'archive';
    vaults.set(
      elsewhere,
      vaultRecord({ name: elsewhere, deletion: { deletionDate: T0, scheduledPurgeDate: T0 } }),
    );
    await makeCreateKey(deps)({ name: elsewhere, sku: 'premium' }, 'orphan', { kty: 'EC' });
    await makeUpdateKeyRotationPolicy(deps)(elsewhere, 'orphan', rotateAfter90Days);

    clock = T0 + 200 * DAY;
    const result = await sweep();
    for (const label of ['payments/deleted', 'payments/disabled', 'archive/orphan']) {
      assert.ok(!result.rotated.some((r) => r.startsWith(`${label}/`)), label);
    }
    assert.deepEqual(result.failed, []);
    assert.equal((await versions('deleted')).length, 1);
    assert.equal((await versions('disabled')).length, 1);
    assert.equal((await store.versionsOf(elsewhere, 'orphan')).length, 1);
    // The sweep saw them: they have policies (the check above can fail).
    assert.ok(result.checked >= 3);
  });

  it("sends KeyNearExpiry at the policy's Notify time, not the default's", async () => {
    // A table of its own, and the real clock: the expiry sweep looks at expiries from now on.
    const table = await freshTable(client);
    const own: KeysDeps = { ...deps, store: new DynamoKeyStore(client, table) };
    const real = Math.floor(Date.now() / 1000);
    clock = real;
    const make = (name: string, exp: number) =>
      makeCreateKey(own)({ name: VAULT, sku: 'premium' }, name, { kty: 'EC', attributes: { exp } });
    const notifyAt = (name: string, timeBeforeExpiry: string) =>
      makeUpdateKeyRotationPolicy(own)(VAULT, name, {
        lifetimeActions: [{ trigger: { timeBeforeExpiry }, action: { type: 'Notify' } }],
      });
    await make('early', real + 40 * DAY);
    await notifyAt('early', 'P45D'); // due: 40 days left, notice wanted at 45
    await make('default', real + 40 * DAY); // no policy: 30 days, not due
    await make('late', real + 20 * DAY);
    await notifyAt('late', 'P10D'); // the default (30) would be due; the policy's 10 is not
    await make('rotating', real + 20 * DAY);
    await own.store.putRotationPolicy(
      VAULT,
      'rotating',
      JSON.stringify({ lifetimeActions: [], attributes: {} }),
      real,
    ); // a policy with no Notify at all: the default threshold applies, due

    const published: VaultEvent[] = [];
    const sweepExpiry = expirySweepOver(
      new DynamoExpiryIndex(client, table),
      {
        publish: async (events) => {
          published.push(...events);
          return { failedIds: [] };
        },
      },
      vaultUrl,
      own.store as DynamoKeyStore,
    );
    const result = await sweepExpiry();
    assert.deepEqual(result.failed, []);
    assert.deepEqual(
      published.map((e) => `${e.eventType} ${(e.data as ObjectEventData).ObjectName}`).sort(),
      ['Microsoft.KeyVault.KeyNearExpiry early', 'Microsoft.KeyVault.KeyNearExpiry rotating'],
    );
  });

  it('reads Notify thresholds of the policies asked for, and no others', async () => {
    clock = T0;
    await createKey('noticed', { kty: 'EC' });
    await setPolicy('noticed', {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P45D' }, action: { type: 'Notify' } }],
    });
    const found = await store.rotationPoliciesOf(['payments/keys/noticed', 'payments/keys/no-such-key']);
    assert.deepEqual([...found.keys()], ['payments/keys/noticed']);
    assert.match(found.get('payments/keys/noticed') ?? '', /"timeBeforeExpiry":"P45D"/);
  });
});
