import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SecretClient } from '@azure/keyvault-secrets';
import { localVaultFixture } from '../support/local-vault-fixture.ts';
import { rejectsWith } from '../support/sdk-errors.ts';

const poll = { intervalInMs: 50 };

describe('secrets through the unmodified Azure SDK SecretClient', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let client: SecretClient;

  before(async () => {
    fixture = await localVaultFixture();
    client = fixture.secretClient();
  });
  after(() => fixture.close());

  it('sets a secret and reads it back with its properties', async () => {
    const set = await client.setSecret('db-password', 's3cr3t-value', {
      contentType: 'text/plain',
      tags: { team: 'payments' },
      expiresOn: new Date('2030-01-01T00:00:00Z'),
    });
    assert.equal(set.value, 's3cr3t-value');
    assert.match(set.properties.version ?? '', /^[0-9a-f]{32}$/);
    const got = await client.getSecret('db-password');
    assert.equal(got.value, 's3cr3t-value');
    assert.equal(got.properties.id, `${fixture.info.vaultUrl}/secrets/db-password/${set.properties.version}`);
    assert.equal(got.properties.contentType, 'text/plain');
    assert.deepEqual(got.properties.tags, { team: 'payments' });
    assert.equal(got.properties.enabled, true);
    assert.equal(got.properties.expiresOn?.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.equal(got.properties.recoveryLevel, 'Recoverable+Purgeable');
    assert.equal(got.properties.recoverableDays, 90);
    assert.ok(got.properties.createdOn instanceof Date);
  });

  it('keeps every version: latest by default, any older one by its id', async () => {
    const first = await client.setSecret('rotating', 'one');
    const second = await client.setSecret('rotating', 'two');
    assert.equal((await client.getSecret('rotating')).value, 'two');
    assert.equal((await client.getSecret('rotating', { version: first.properties.version })).value, 'one');
    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('rotating')) versions.push(p.version);
    assert.deepEqual(versions.sort(), [first.properties.version, second.properties.version].sort());
  });

  it('matches names without regard to case, as Key Vault does', async () => {
    await client.setSecret('MixedCase', 'v');
    assert.equal((await client.getSecret('mixedcase')).value, 'v');
  });

  it('updates properties of a version, and refuses to read a disabled one with 403', async () => {
    const set = await client.setSecret('toggled', 'value');
    const updated = await client.updateSecretProperties('toggled', set.properties.version as string, {
      enabled: false,
      tags: { state: 'off' },
      contentType: 'application/x-off',
    });
    assert.equal(updated.enabled, false);
    assert.deepEqual(updated.tags, { state: 'off' });
    await rejectsWith(client.getSecret('toggled'), 403, 'Forbidden');
    await client.updateSecretProperties('toggled', set.properties.version as string, { enabled: true });
    assert.equal((await client.getSecret('toggled')).value, 'value');
  });

  it('lists secrets page by page without ever carrying a value', async () => {
    for (const n of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e'])
      await client.setSecret(n, `value-of-${n}`);
    const names: string[] = [];
    let pages = 0;
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
      pages++;
      assert.ok(page.length <= 2);
      for (const p of page) {
        names.push(p.name);
        assert.equal((p as { value?: string }).value, undefined);
      }
    }
    assert.ok(pages >= 3);
    for (const n of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e']) assert.ok(names.includes(n), n);
  });

  it('soft-deletes, refuses the name while deleted, recovers, and purges', async () => {
    await client.setSecret('lifecycle', 'kept');
    const deleted = await (await client.beginDeleteSecret('lifecycle', poll)).pollUntilDone();
    assert.equal(deleted.recoveryId, `${fixture.info.vaultUrl}/deletedsecrets/lifecycle`);
    assert.ok(deleted.properties.scheduledPurgeDate instanceof Date);
    assert.equal(deleted.value, undefined, 'a deleted secret discloses no value');
    await rejectsWith(client.getSecret('lifecycle'), 404, 'SecretNotFound');
    await rejectsWith(client.setSecret('lifecycle', 'new'), 409, 'Conflict');
    const listed = [];
    for await (const d of client.listDeletedSecrets()) listed.push(d.name);
    assert.ok(listed.includes('lifecycle'));
    assert.equal((await client.getDeletedSecret('lifecycle')).name, 'lifecycle');

    await (await client.beginRecoverDeletedSecret('lifecycle', poll)).pollUntilDone();
    assert.equal((await client.getSecret('lifecycle')).value, 'kept');

    await (await client.beginDeleteSecret('lifecycle', poll)).pollUntilDone();
    await client.purgeDeletedSecret('lifecycle');
    await rejectsWith(client.getDeletedSecret('lifecycle'), 404, 'SecretNotFound');
    await rejectsWith(client.getSecret('lifecycle'), 404, 'SecretNotFound');
  });

  it('backs up every version into a sealed blob and restores it', async () => {
    const v1 = await client.setSecret('backed-up', 'plaintext-canary-1');
    await client.setSecret('backed-up', 'plaintext-canary-2');
    const blob = (await client.backupSecret('backed-up')) as Uint8Array;
    const asText = Buffer.from(blob).toString('latin1');
    for (const canary of ['plaintext-canary', Buffer.from('plaintext-canary').toString('base64')]) {
      assert.ok(!asText.includes(canary), 'the backup holds no plaintext');
    }
    await rejectsWith(client.restoreSecretBackup(blob), 409, 'Conflict');

    await (await client.beginDeleteSecret('backed-up', poll)).pollUntilDone();
    await client.purgeDeletedSecret('backed-up');
    const restored = await client.restoreSecretBackup(blob);
    assert.equal(restored?.name, 'backed-up');
    assert.equal((await client.getSecret('backed-up')).value, 'plaintext-canary-2');
    assert.equal(
      (await client.getSecret('backed-up', { version: v1.properties.version })).value,
      'plaintext-canary-1',
    );
  });

  it('refuses a tampered backup with 400 and restores nothing', async () => {
    await client.setSecret('tampered', 'x');
    const blob = Buffer.from((await client.backupSecret('tampered')) as Uint8Array);
    await (await client.beginDeleteSecret('tampered', poll)).pollUntilDone();
    await client.purgeDeletedSecret('tampered');
    const envelope = JSON.parse(blob.toString('utf8'));
    const ct = Buffer.from(envelope.ciphertext, 'base64');
    ct[0] = (ct[0] as number) ^ 1;
    const bad = Buffer.from(JSON.stringify({ ...envelope, ciphertext: ct.toString('base64') }));
    await rejectsWith(client.restoreSecretBackup(bad), 400, 'BadParameter');
    await rejectsWith(client.restoreSecretBackup(Buffer.from('not a backup')), 400, 'BadParameter');
    await rejectsWith(client.getSecret('tampered'), 404, 'SecretNotFound');
  });

  it('answers unknown secrets and versions with 404 SecretNotFound', async () => {
    await rejectsWith(client.getSecret('never-set'), 404, 'SecretNotFound');
    await client.setSecret('known', 'v');
    await rejectsWith(client.getSecret('known', { version: '0'.repeat(32) }), 404, 'SecretNotFound');
    await rejectsWith(client.getSecret('known', { version: 'not-a-version' }), 404, 'SecretNotFound');
  });

  it('refuses bad names and oversized values with 400 BadParameter', async () => {
    await rejectsWith(client.setSecret('bad_name', 'v'), 400, 'BadParameter');
    await rejectsWith(client.setSecret('x'.repeat(128), 'v'), 400, 'BadParameter');
    await rejectsWith(client.setSecret('too-big', 'x'.repeat(25 * 1024 + 1)), 400, 'BadParameter');
    const atLimit = 'x'.repeat(25 * 1024);
    assert.equal((await client.setSecret('just-fits', atLimit)).value, atLimit);
  });

  it('serves the older api-versions the SDK can be pinned to', async () => {
    const pinned = fixture.secretClient({ serviceVersion: '7.5' });
    await pinned.setSecret('pinned', 'v75');
    assert.equal((await pinned.getSecret('pinned')).value, 'v75');
  });
});
