import { randomUUID } from 'node:crypto';
import type { VaultDeps } from '../vaults/manage-vaults.ts';
import { container } from './container.ts';
import { nowSeconds } from './ids.ts';
import { vaultStore } from './vault-store.ts';

/** Builds a vault management use case once per container, on first use. */
export function vaultManagement<F>(make: (deps: VaultDeps) => F): () => F {
  let made: F | undefined;
  return () => {
    const c = container();
    made ??= make({
      store: vaultStore(),
      now: nowSeconds,
      newId: randomUUID,
      forget: (name) => c.vaults.forget(name),
      tenantId: c.config.ARCA_TENANT_ID,
      // Loaded on use: only a vault's purge reaches its keys.
      hsmKeysOf: async (vault) => {
        const [{ makeVaultHsmKeys }, { keysDeps }] = await Promise.all([
          import('../keys/key-lifecycle.ts'),
          import('./keys.ts'),
        ]);
        return makeVaultHsmKeys(keysDeps())(vault);
      },
    });
    return made;
  };
}
