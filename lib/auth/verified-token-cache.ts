import { createHash } from 'node:crypto';
import type { Principal } from './token-verifier.ts';

interface Entry {
  readonly principal: Principal;
  readonly until: number;
}

/**
 * Remembers tokens that verified, keyed by a SHA-256 of the token (the token
 * itself is never held), until the token expires or maxAgeMs passes, so a
 * client that reuses its token is not re-verified on every request. Refusals
 * are never cached. Bounded: the oldest entry goes first.
 */
export function cacheVerifiedTokens(
  verify: (token: string) => Promise<Principal & { expiresAt?: number }>,
  { maxEntries = 1_000, maxAgeMs = 300_000, now = Date.now } = {},
) {
  const entries = new Map<string, Entry>();
  return async (token: string): Promise<Principal> => {
    const id = createHash('sha256').update(token).digest('base64');
    const hit = entries.get(id);
    if (hit && hit.until > now()) return hit.principal;
    if (hit) entries.delete(id);
    const { expiresAt, ...principal } = await verify(token);
    const until = Math.min(now() + maxAgeMs, expiresAt ? expiresAt * 1000 : 0);
    if (until > now() && maxEntries > 0) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(id, { principal, until });
    }
    return principal;
  };
}
