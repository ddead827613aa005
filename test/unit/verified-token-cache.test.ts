import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheVerifiedTokens } from '#lib/auth/verified-token-cache.ts';
import { UnauthorizedError } from '#lib/errors.ts';

describe('the verified-token cache', () => {
  it('verifies a reused token once, until the token expires', async () => {
    let clock = 1_000_000;
    let calls = 0;
    const verify = cacheVerifiedTokens(
      async () => {
        calls++;
        return { objectId: 'o', expiresAt: 1_000 + 60 }; // expires 60 s after the clock's start
      },
      { now: () => clock },
    );
    await verify('t');
    await verify('t');
    assert.equal(calls, 1);
    clock += 61_000;
    await verify('t');
    assert.equal(calls, 2, 'an expired token is verified again (and refused by the verifier)');
  });

  it('never caches a refusal', async () => {
    let calls = 0;
    const verify = cacheVerifiedTokens(async () => {
      calls++;
      throw new UnauthorizedError('no');
    });
    await assert.rejects(verify('bad'), UnauthorizedError);
    await assert.rejects(verify('bad'), UnauthorizedError);
    assert.equal(calls, 2);
  });

  it('keeps at most maxEntries tokens', async () => {
    let calls = 0;
    const verify = cacheVerifiedTokens(
      async () => {
        calls++;
        return { objectId: 'o', expiresAt: Math.floor(Date.now() / 1000) + 3600 };
      },
      { maxEntries: 2 },
    );
    for (const t of ['a', 'b', 'c', 'a']) await verify(t);
    assert.equal(calls, 4, "'a' was evicted by 'c'");
  });
});
