import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Barrier } from '#lib/crypto/barrier.ts';
import { LocalKeyring } from '#lib/crypto/local-keyring.ts';
import { BadParameterError, ConflictError, ForbiddenError, NotFoundError } from '#lib/errors.ts';
import { makeBackupSecret, makeRestoreSecret } from '#lib/secrets/backup-secret.ts';
import { makeDeleteSecret } from '#lib/secrets/delete-secret.ts';
import { makeGetSecret } from '#lib/secrets/get-secret.ts';
import type { SecretHead, SecretVersion } from '#lib/secrets/model.ts';
import { makeSetSecret } from '#lib/secrets/set-secret.ts';
import type { SecretStore } from '#lib/store/secret-store.ts';

const barrier = new Barrier(LocalKeyring.fromKey(randomBytes(32)));
const ids = () => randomBytes(16).toString('hex');

/** Just enough of a store for these use cases: versions by name, the last one is the latest. */
function memoryStore() {
  const secrets = new Map<string, { versions: SecretVersion[]; deleted?: boolean }>();
  const entry = (name: string) => secrets.get(name.toLowerCase());
  const head = (name: string): SecretHead | undefined => {
    const e = entry(name);
    const latest = e?.versions.at(-1);
    return latest && { latest, ...(e?.deleted && { deletion: { deletedDate: 1, scheduledPurgeDate: 2 } }) };
  };
  const store: Pick<
    SecretStore,
    'putVersion' | 'getHead' | 'getVersion' | 'allVersions' | 'restore' | 'softDelete'
  > = {
    putVersion: async (_vault, v) => {
      const e = entry(v.name) ?? { versions: [] };
      if (e.deleted) throw new ConflictError('deleted');
      e.versions.push(v);
      secrets.set(v.name.toLowerCase(), e);
    },
    getHead: async (_vault, name) => head(name),
    getVersion: async (_vault, name, version) => {
      const v = entry(name)?.versions.find((x) => x.version === version);
      const h = head(name);
      return v && { version: v, ...(h?.deletion && { deletion: h.deletion }) };
    },
    allVersions: async (_vault, name) =>
      entry(name) && !entry(name)?.deleted ? entry(name)?.versions : undefined,
    restore: async (_vault, versions, latest) => {
      const name = versions[0]?.name as string;
      if (entry(name)) throw new ConflictError('exists');
      secrets.set(name.toLowerCase(), {
        versions: [
          ...versions.filter((v) => v.version !== latest),
          ...versions.filter((v) => v.version === latest),
        ],
      });
    },
    softDelete: async (_vault, name) => {
      const e = entry(name);
      if (!e || e.deleted) return undefined;
      e.deleted = true;
      return head(name);
    },
  };
  return { store: store as SecretStore, secrets };
}

function useCases() {
  const { store, secrets } = memoryStore();
  const deps = { store, barrier, now: () => 1_800_000_000, newVersionId: ids };
  return {
    secrets,
    set: makeSetSecret(deps),
    get: makeGetSecret(deps),
    remove: makeDeleteSecret(deps),
    backup: makeBackupSecret(deps),
    restore: makeRestoreSecret(deps),
  };
}

describe('secret use cases', () => {
  it('stores only a sealed value, which opens to what was set', async () => {
    const uc = useCases();
    await uc.set('dev', 'api-key', { value: 'plain-canary-value' });
    const stored = uc.secrets.get('api-key')?.versions[0] as SecretVersion;
    assert.ok(!JSON.stringify(stored).includes('plain-canary-value'));
    assert.ok(!stored.sealed.ciphertext.includes(Buffer.from('plain-canary-value')));
    assert.equal((await uc.get('dev', 'api-key')).value, 'plain-canary-value');
  });

  it('binds a sealed value to its vault: the same item read through another vault does not open', async () => {
    const uc = useCases();
    await uc.set('vault-a', 'bound', { value: 'v' });
    await assert.rejects(uc.get('vault-b', 'bound'), (e: Error) => e.name === 'CryptoIntegrityError');
  });

  it('refuses a disabled secret with 403 and an unknown one with 404', async () => {
    const uc = useCases();
    await uc.set('dev', 'off', { value: 'v', attributes: { enabled: false } });
    await assert.rejects(uc.get('dev', 'off'), ForbiddenError);
    await assert.rejects(uc.get('dev', 'missing'), NotFoundError);
    await assert.rejects(uc.get('dev', 'bad name!'), NotFoundError);
  });

  it('refuses to create a secret under an invalid name, storing nothing', async () => {
    const uc = useCases();
    await assert.rejects(uc.set('dev', 'under_score', { value: 'v' }), BadParameterError);
    await assert.rejects(uc.set('dev', 'x'.repeat(128), { value: 'v' }), BadParameterError);
    assert.equal(uc.secrets.size, 0);
  });

  it('hides a deleted secret from get, and schedules its purge after the retention', async () => {
    const uc = useCases();
    await uc.set('dev', 'temp', { value: 'v' });
    await uc.remove('dev', 'temp', { retentionDays: 90, purgeProtection: false });
    await assert.rejects(uc.get('dev', 'temp'), NotFoundError);
  });

  it('restores a backup into another vault with every version, re-sealed for that vault', async () => {
    const source = useCases();
    const first = await source.set('vault-a', 'moved', { value: 'one' });
    await source.set('vault-a', 'moved', { value: 'two', tags: { t: '1' } });
    const blob = await source.backup('vault-a', 'moved');
    assert.ok(!Buffer.from(blob, 'base64url').toString('latin1').includes('two'));

    const target = useCases();
    const restored = await target.restore('vault-b', blob);
    assert.deepEqual(restored.tags, { t: '1' });
    assert.equal((await target.get('vault-b', 'moved')).value, 'two');
    assert.equal((await target.get('vault-b', 'moved', first.secret.version)).value, 'one');
  });

  it('refuses a backup whose bytes were changed, or that is not a backup', async () => {
    const uc = useCases();
    await uc.set('dev', 'b', { value: 'v' });
    const blob = Buffer.from(await uc.backup('dev', 'b'), 'base64url');
    const envelope = JSON.parse(blob.toString());
    const renamed = Buffer.from(JSON.stringify({ ...envelope, name: 'other' })).toString('base64url');
    const other = useCases();
    await assert.rejects(other.restore('dev', renamed), BadParameterError);
    await assert.rejects(other.restore('dev', 'bm90IGEgYmFja3Vw'), BadParameterError);
    assert.equal(other.secrets.size, 0);
  });
});
