import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

interface Envelope {
  eventType: string;
  data: { ObjectName?: string; VaultName?: string; Version?: string; OperationName?: string };
}

/** Vault events in local mode: the table and audit streams, published to events.jsonl. */
describe('vault events, locally', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  const file = () => join(fixture.dataDir, 'events.jsonl');
  const events = (): Envelope[] =>
    existsSync(file())
      ? readFileSync(file(), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  const waitFor = async (match: (e: Envelope) => boolean) => {
    for (let i = 0; i < 100; i++) {
      const found = events().find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no matching event in ${events().length} events`);
  };

  before(async () => {
    // A short sweep interval, so the expiry sweep runs within the test's wait.
    fixture = await localVaultFixture({ ARCA_SWEEP_INTERVAL_MS: '1000' });
  });
  after(() => fixture.close());

  it('publishes SecretNewVersionCreated, SecretDeleted and SecretRecovered, in Azure Event Grid shape', async () => {
    const client = fixture.secretClient();
    const set = await client.setSecret('evented', 'event-canary-value');
    const created = await waitFor(
      (e) => e.eventType === 'Microsoft.KeyVault.SecretNewVersionCreated' && e.data.ObjectName === 'evented',
    );
    assert.equal(created.data.Version, set.properties.version);
    assert.equal(created.data.VaultName, 'dev');
    await (await client.beginDeleteSecret('evented', { intervalInMs: 50 })).pollUntilDone();
    await waitFor((e) => e.eventType === 'Arca.KeyVault.SecretDeleted' && e.data.ObjectName === 'evented');
    await (await client.beginRecoverDeletedSecret('evented', { intervalInMs: 50 })).pollUntilDone();
    await waitFor((e) => e.eventType === 'Arca.KeyVault.SecretRecovered' && e.data.ObjectName === 'evented');
    assert.ok(!readFileSync(file(), 'utf8').includes('event-canary-value'), 'events carry no value');
    assert.equal(statSync(file()).mode & 0o777, 0o600);
  });

  it('publishes KeyNewVersionCreated for a created and a rotated key, and KeyNearExpiry from the sweep', async () => {
    const keys = fixture.keyClient();
    const created = await keys.createEcKey('evented-key', { curve: 'P-256' });
    const first = await waitFor(
      (e) => e.eventType === 'Microsoft.KeyVault.KeyNewVersionCreated' && e.data.ObjectName === 'evented-key',
    );
    assert.equal(first.data.Version, created.properties.version);
    const rotated = await keys.rotateKey('evented-key');
    await waitFor(
      (e) =>
        e.eventType === 'Microsoft.KeyVault.KeyNewVersionCreated' &&
        e.data.ObjectName === 'evented-key' &&
        e.data.Version === rotated.properties.version,
    );
    // Expiring in 10 days: inside the default 30-day notice, so the next sweep tells.
    const soon = new Date(Date.now() + 10 * 86_400_000);
    const expiring = await keys.createRsaKey('expiring-key', { expiresOn: soon });
    const near = await waitFor(
      (e) => e.eventType === 'Microsoft.KeyVault.KeyNearExpiry' && e.data.ObjectName === 'expiring-key',
    );
    assert.equal(near.data.Version, expiring.properties.version);
  });

  it('publishes AccessDenied for a refused request', async () => {
    const nobody = await fixture.vault.issuer.createClient('events-nobody');
    const token = await fixture.vault.issuer.mintToken({ clientId: nobody.clientId });
    const res = await rawRequest(`${fixture.info.vaultUrl}/secrets/evented?api-version=2026-04-01`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 403);
    const denied = await waitFor(
      (e) => e.eventType === 'Arca.KeyVault.AccessDenied' && e.data.OperationName === 'SecretGet',
    );
    assert.equal(denied.data.VaultName, 'dev');
  });
});
