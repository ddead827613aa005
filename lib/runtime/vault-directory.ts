import type { VaultStore } from '../store/vault-store.ts';
import type { Vault } from '../vaults/model.ts';

/**
 * Vault records (properties, policies, role assignments) as handlers see
 * them, cached per container for `ttlMs`, so authorizing a hot read costs no
 * extra round trip. Changes made in this container are seen at once
 * (`forget`); changes made in another take up to `ttlMs` to reach it, as role
 * changes take time to propagate in Azure.
 */
export class VaultDirectory {
  private readonly entries = new Map<string, { vault: Vault | undefined; until: number }>();

  constructor(
    private readonly store: Pick<VaultStore, 'get'>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(name: string): Promise<Vault | undefined> {
    const key = name.toLowerCase();
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.vault;
    const vault = await this.store.get(key);
    if (this.ttlMs > 0) {
      if (this.entries.size >= 10_000) this.entries.clear();
      this.entries.set(key, { vault, until: this.now() + this.ttlMs });
    }
    return vault;
  }

  forget(name: string): void {
    this.entries.delete(name.toLowerCase());
  }
}
