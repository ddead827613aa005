import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Barrier, type SealContext, type SealedValue } from '#lib/crypto/barrier.ts';
import { CachingKeyring, type DataKeyCacheLimits, defaultCacheLimits } from '#lib/crypto/data-key-cache.ts';
import { CryptoIntegrityError } from '#lib/crypto/errors.ts';
import type { DataKey, EncryptionContext, Keyring } from '#lib/crypto/keyring.ts';
import { LocalKeyring } from '#lib/crypto/local-keyring.ts';

/** The keyring behind the cache: real wrapping, and a count of the unwraps that reach it. */
class CountingKeyring implements Keyring {
  readonly id = 'counting';
  unwraps = 0;
  private readonly inner = LocalKeyring.fromKey(randomBytes(32));

  generateDataKey(context: EncryptionContext): Promise<DataKey> {
    return this.inner.generateDataKey(context);
  }

  unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    this.unwraps++;
    return this.inner.unwrapDataKey(wrapped, context);
  }
}

const value = Buffer.from('a hot secret read on every request');

function contextFor(name: string) {
  return { vault: 'payments', kind: 'secret', name, version: 'v1' };
}

function setUp(limits: Partial<DataKeyCacheLimits> = {}, now: () => number = Date.now) {
  const inner = new CountingKeyring();
  const cache = new CachingKeyring(inner, { ...defaultCacheLimits, ...limits }, now);
  return { inner, cache, barrier: new Barrier(cache) };
}

async function openTimes(barrier: Barrier, sealed: SealedValue, context: SealContext, times: number) {
  for (let i = 0; i < times; i++) assert.deepEqual(await barrier.open(sealed, context), value);
}

describe('CachingKeyring', () => {
  it('serves 1,000 opens after a seal without a single unwrap', async () => {
    const { inner, barrier } = setUp();
    const sealed = await barrier.seal(value, contextFor('hot'));
    await openTimes(barrier, sealed, contextFor('hot'), 1_000);
    assert.equal(inner.unwraps, 0);
  });

  it('serves 1,000 opens with exactly one unwrap once the cache is cleared', async () => {
    const { inner, cache, barrier } = setUp();
    const sealed = await barrier.seal(value, contextFor('hot'));
    cache.clear();
    assert.equal(cache.size, 0);
    await openTimes(barrier, sealed, contextFor('hot'), 1_000);
    assert.equal(inner.unwraps, 1);
  });

  it('unwraps again after maxUses opens (maxUses 10: 100 opens, 10 unwraps)', async () => {
    const { inner, cache, barrier } = setUp({ maxUses: 10 });
    const sealed = await barrier.seal(value, contextFor('hot'));
    cache.clear();
    await openTimes(barrier, sealed, contextFor('hot'), 100);
    assert.equal(inner.unwraps, 10);
  });

  it('counts the open that unwrapped a key among its maxUses', async () => {
    const { inner, cache, barrier } = setUp({ maxUses: 10 });
    const sealed = await barrier.seal(value, contextFor('hot'));
    cache.clear();
    await openTimes(barrier, sealed, contextFor('hot'), 10);
    assert.equal(inner.unwraps, 1);
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 2);
  });

  it('lets the key from a seal serve maxUses opens', async () => {
    const { inner, barrier } = setUp({ maxUses: 10 });
    const sealed = await barrier.seal(value, contextFor('hot'));
    await openTimes(barrier, sealed, contextFor('hot'), 10);
    assert.equal(inner.unwraps, 0);
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 1);
  });

  it('unwraps again once maxAgeMs has passed', async () => {
    let now = 0;
    const { inner, barrier } = setUp({ maxAgeMs: 1_000 }, () => now);
    const sealed = await barrier.seal(value, contextFor('hot'));
    now = 999;
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 0);
    now = 1_000;
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 1);
    now = 1_999;
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 1);
    now = 2_000;
    await openTimes(barrier, sealed, contextFor('hot'), 1);
    assert.equal(inner.unwraps, 2);
  });

  it('drops expired keys from memory at the next miss', async () => {
    let now = 0;
    const { cache, barrier } = setUp({ maxAgeMs: 1_000 }, () => now);
    await barrier.seal(value, contextFor('a'));
    await barrier.seal(value, contextFor('b'));
    assert.equal(cache.size, 2);
    now = 5_000;
    await barrier.seal(value, contextFor('c'));
    assert.equal(cache.size, 1);
  });

  it('evicts the least recently used key when maxEntries is reached', async () => {
    const { inner, cache, barrier } = setUp({ maxEntries: 2 });
    const a = await barrier.seal(value, contextFor('a'));
    const b = await barrier.seal(value, contextFor('b'));
    await openTimes(barrier, a, contextFor('a'), 1); // a is now more recent than b
    const c = await barrier.seal(value, contextFor('c'));
    assert.equal(cache.size, 2);
    await openTimes(barrier, a, contextFor('a'), 1);
    await openTimes(barrier, c, contextFor('c'), 1);
    assert.equal(inner.unwraps, 0);
    await openTimes(barrier, b, contextFor('b'), 1);
    assert.equal(inner.unwraps, 1);
    assert.equal(cache.size, 2);
  });

  it("never serves one context's key for another context", async () => {
    const { inner, cache, barrier } = setUp();
    const sealed = await barrier.seal(value, contextFor('mine'));
    const other = { ...contextFor('mine'), version: 'v2' };
    await assert.rejects(barrier.open(sealed, other), CryptoIntegrityError);
    assert.equal(inner.unwraps, 1);
    await assert.rejects(
      cache.unwrapDataKey(sealed.wrappedKey, { ...other, vault: 'elsewhere' }),
      CryptoIntegrityError,
    );
    assert.equal(inner.unwraps, 2);
    await openTimes(barrier, sealed, contextFor('mine'), 1);
    assert.equal(inner.unwraps, 2);
  });

  it('does not cache a failed unwrap', async () => {
    const { inner, cache, barrier } = setUp();
    const sealed = await barrier.seal(value, contextFor('mine'));
    const wrappedKey = Buffer.from(sealed.wrappedKey);
    wrappedKey[30] = (wrappedKey[30] ?? 0) ^ 1;
    for (let i = 0; i < 3; i++) {
      await assert.rejects(barrier.open({ ...sealed, wrappedKey }, contextFor('mine')), CryptoIntegrityError);
    }
    assert.equal(inner.unwraps, 3);
    assert.equal(cache.size, 1);
  });

  it('caches nothing when maxEntries is 0', async () => {
    const { inner, cache, barrier } = setUp({ maxEntries: 0 });
    const sealed = await barrier.seal(value, contextFor('cold'));
    await openTimes(barrier, sealed, contextFor('cold'), 5);
    assert.equal(inner.unwraps, 5);
    assert.equal(cache.size, 0);
  });

  it('hands out copies: zeroing a returned key leaves the cached one intact', async () => {
    const { inner, cache } = setUp();
    const context = contextFor('copied');
    const dataKey = await cache.generateDataKey(context);
    const original = Buffer.from(dataKey.plaintext);
    dataKey.plaintext.fill(0);
    const first = await cache.unwrapDataKey(dataKey.wrapped, context);
    assert.deepEqual(first, original);
    first.fill(0);
    assert.deepEqual(await cache.unwrapDataKey(dataKey.wrapped, context), original);
    assert.equal(inner.unwraps, 0);
  });

  it('hands out copies on a miss too', async () => {
    const { inner, cache } = setUp();
    const context = contextFor('copied');
    const dataKey = await cache.generateDataKey(context);
    const original = Buffer.from(dataKey.plaintext);
    cache.clear();
    (await cache.unwrapDataKey(dataKey.wrapped, context)).fill(0);
    assert.deepEqual(await cache.unwrapDataKey(dataKey.wrapped, context), original);
    assert.equal(inner.unwraps, 1);
  });

  it('reports the id of the keyring it wraps', () => {
    assert.equal(setUp().cache.id, 'counting');
  });
});
