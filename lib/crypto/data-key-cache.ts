import { createHash } from 'node:crypto';
import { canonicalContext, type DataKey, type EncryptionContext, type Keyring } from './keyring.ts';

export interface DataKeyCacheLimits {
  /** How long an unwrapped key may be reused. */
  readonly maxAgeMs: number;
  /** How many opens one unwrapped key may serve. */
  readonly maxUses: number;
  /** How many unwrapped keys are held at once (least recently used goes first). */
  readonly maxEntries: number;
}

export const defaultCacheLimits: DataKeyCacheLimits = {
  maxAgeMs: 5 * 60_000,
  maxUses: 10_000,
  maxEntries: 1_000,
};

interface Entry {
  readonly key: Buffer;
  readonly expiresAt: number;
  uses: number;
}

/**
 * A keyring that remembers unwrapped data keys for a bounded time and use
 * count, so hot reads make almost no KMS calls. Entries are keyed by a hash of
 * the wrapped key and its context, so a cached key is only ever served for the
 * exact wrapped key and context that produced it.
 */
export class CachingKeyring implements Keyring {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inner: Keyring,
    private readonly limits: DataKeyCacheLimits = defaultCacheLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  get size(): number {
    return this.entries.size;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const dataKey = await this.inner.generateDataKey(context);
    // The writer already holds the plaintext: the first read needs no unwrap.
    this.remember(this.cacheKey(dataKey.wrapped, context), dataKey.plaintext);
    return dataKey;
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    const id = this.cacheKey(wrapped, context);
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      if (hit.expiresAt > this.now() && hit.uses < this.limits.maxUses) {
        hit.uses++;
        this.entries.set(id, hit); // most recently used goes last
        return Buffer.from(hit.key);
      }
      hit.key.fill(0);
    }
    const key = await this.inner.unwrapDataKey(wrapped, context);
    this.remember(id, key, 1); // this open is the key's first use
    return key;
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.key.fill(0);
    this.entries.clear();
  }

  private remember(id: string, key: Buffer, uses = 0): void {
    this.forget(id); // a concurrent miss for the same key must not evict an unrelated entry
    this.dropExpired();
    if (this.limits.maxEntries <= 0 || uses >= this.limits.maxUses) return;
    while (this.entries.size >= this.limits.maxEntries) {
      this.forget(this.entries.keys().next().value as string);
    }
    this.entries.set(id, { key: Buffer.from(key), expiresAt: this.now() + this.limits.maxAgeMs, uses });
  }

  private forget(id: string): void {
    this.entries.get(id)?.key.fill(0);
    this.entries.delete(id);
  }

  /** Expired keys are zeroed on the next miss rather than lingering until evicted. */
  private dropExpired(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.forget(id);
  }

  private cacheKey(wrapped: Buffer, context: EncryptionContext): string {
    return createHash('sha256')
      .update(wrapped)
      .update('\0')
      .update(canonicalContext(context))
      .digest('base64');
  }
}
