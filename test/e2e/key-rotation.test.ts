import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RestError } from '@azure/core-rest-pipeline';
import type { KeyClient, KeyRotationPolicyProperties } from '@azure/keyvault-keys';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/**
 * Rotation policies through the unmodified KeyClient: what it sends
 * (lifetimeActions, attributes.expiryTime) and how it reads the answer
 * (createdOn and updatedOn from unix times, action types normalized).
 */
describe('key rotation policies through the Azure SDK', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let client: KeyClient;
  before(async () => {
    fixture = await localVaultFixture();
    client = fixture.keyClient();
  });
  after(() => fixture.close());

  /** The status and Key Vault error code a call failed with. */
  async function failure(
    call: Promise<unknown>,
  ): Promise<{ status?: number; code?: string; message: string }> {
    try {
      await call;
    } catch (error) {
      const e = error as RestError;
      return { status: e.statusCode, code: e.code, message: e.message };
    }
    assert.fail('the call succeeded');
  }

  it("answers a key without a policy with Azure's default: Notify 30 days before expiry, no id", async () => {
    await client.createKey('unpolicied', 'EC');
    const policy = await client.getKeyRotationPolicy('unpolicied');
    assert.deepEqual(policy, {
      id: undefined,
      createdOn: undefined,
      updatedOn: undefined,
      expiresIn: undefined,
      lifetimeActions: [{ action: 'Notify', timeAfterCreate: undefined, timeBeforeExpiry: 'P30D' }],
    });
  });

  it('stores a policy and reads it back the same, with the default Notify added', async () => {
    const key = await client.createKey('Policied', 'RSA');
    const started = Date.now();
    const set = await client.updateKeyRotationPolicy(key.name, {
      expiresIn: 'P90D',
      lifetimeActions: [{ action: 'Rotate', timeBeforeExpiry: 'P30D' }],
    });
    const fetched = await client.getKeyRotationPolicy('policied');
    assert.deepEqual(fetched, set);
    assert.equal(set.id, `${fixture.info.vaultUrl}/keys/Policied/rotationpolicy`);
    assert.equal(set.expiresIn, 'P90D');
    assert.deepEqual(set.lifetimeActions, [
      { action: 'Rotate', timeAfterCreate: undefined, timeBeforeExpiry: 'P30D' },
      { action: 'Notify', timeAfterCreate: undefined, timeBeforeExpiry: 'P30D' },
    ]);
    assert.ok(set.createdOn instanceof Date && set.updatedOn instanceof Date);
    assert.ok(Math.abs((set.createdOn as Date).getTime() - started) < 60_000);
  });

  it('replaces a policy on update, keeping when it was first created', async () => {
    await client.createKey('replaced', 'RSA');
    const first = await client.updateKeyRotationPolicy('replaced', {
      lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P2M' }],
    });
    const updated = await client.updateKeyRotationPolicy('replaced', {
      expiresIn: 'P90D',
      lifetimeActions: [{ action: 'Notify', timeBeforeExpiry: 'P30D' }],
    });
    assert.deepEqual(updated, {
      id: first.id,
      createdOn: first.createdOn,
      updatedOn: updated.updatedOn,
      expiresIn: 'P90D',
      lifetimeActions: [{ action: 'Notify', timeAfterCreate: undefined, timeBeforeExpiry: 'P30D' }],
    });
    assert.deepEqual(await client.getKeyRotationPolicy('replaced'), updated);
  });

  it('refuses policies that break the rules with 400 BadParameter, naming the field', async () => {
    await client.createKey('strict', 'EC');
    const cases: Array<[KeyRotationPolicyProperties, RegExp]> = [
      [{ expiresIn: 'P7D' }, /attributes\.expiryTime must be at least 28 days/],
      [{ expiresIn: 'ninety days' }, /attributes\.expiryTime must be an ISO 8601 duration/],
      [
        { lifetimeActions: [{ action: 'Notify', timeAfterCreate: 'P30D' }] },
        /lifetimeActions\[0\]\.trigger: a Notify action is triggered by timeBeforeExpiry only/,
      ],
      [
        { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P1D' }] },
        /lifetimeActions\[0\]\.trigger\.timeAfterCreate must be at least 7 days/,
      ],
      [
        { expiresIn: 'P60D', lifetimeActions: [{ action: 'Rotate', timeBeforeExpiry: 'P60D' }] },
        /timeBeforeExpiry must be at least 7 days shorter than attributes\.expiryTime/,
      ],
      [
        { lifetimeActions: [{ action: 'Rotate' }] },
        /lifetimeActions\[0\]\.trigger must set exactly one of timeAfterCreate and timeBeforeExpiry/,
      ],
      [
        {
          lifetimeActions: [
            { action: 'Rotate', timeAfterCreate: 'P30D' },
            { action: 'Rotate', timeAfterCreate: 'P60D' },
          ],
        },
        /at most one Rotate action and one Notify action/,
      ],
    ];
    for (const [policy, message] of cases) {
      const refused = await failure(client.updateKeyRotationPolicy('strict', policy));
      assert.equal(refused.status, 400, JSON.stringify(policy));
      assert.equal(refused.code, 'BadParameter', JSON.stringify(policy));
      assert.match(refused.message, message);
    }
    // Nothing was stored: the key still has the default policy.
    assert.equal((await client.getKeyRotationPolicy('strict')).id, undefined);
  });

  it('answers 404 KeyNotFound for the policy of an unknown or deleted key', async () => {
    for (const call of [
      () => client.getKeyRotationPolicy('no-such-key'),
      () => client.updateKeyRotationPolicy('no-such-key', { expiresIn: 'P90D' }),
    ]) {
      // Each call starts only when awaited: a rejection nobody awaits yet is an unhandled rejection.
      const missing = await failure(call());
      assert.equal(missing.status, 404);
      assert.equal(missing.code, 'KeyNotFound');
    }
    await client.createKey('gone', 'EC');
    await client.updateKeyRotationPolicy('gone', { expiresIn: 'P90D' });
    await (await client.beginDeleteKey('gone', { intervalInMs: 50 })).pollUntilDone();
    const deleted = await failure(client.getKeyRotationPolicy('gone'));
    assert.equal(deleted.status, 404);
    assert.equal(deleted.code, 'KeyNotFound');
  });

  it("rotates a key with the policy's expiryTime as the new version's expiry", async () => {
    const key = await client.createKey('expiring', 'EC', { tags: { owner: 'payments' } });
    assert.equal(key.properties.expiresOn, undefined);
    await client.updateKeyRotationPolicy('expiring', { expiresIn: 'P90D' });
    const before = Date.now();
    const rotated = await client.rotateKey('expiring');
    const after = Date.now();
    assert.notEqual(rotated.properties.version, key.properties.version);
    assert.deepEqual(rotated.properties.tags, { owner: 'payments' });
    const expires = rotated.properties.expiresOn?.getTime();
    assert.ok(expires !== undefined, 'no expiresOn');
    const ninetyDays = 90 * 86_400_000;
    assert.ok(expires >= Math.floor(before / 1000) * 1000 + ninetyDays - 1000, 'expires too early');
    assert.ok(expires <= after + ninetyDays, 'expires too late');
    // The version before keeps no expiry.
    const old = await client.getKey('expiring', { version: key.properties.version as string });
    assert.equal(old.properties.expiresOn, undefined);
  });
});
