import type { VaultStore } from '../store/vault-store.ts';
import { container } from './container.ts';
import { vaultStore } from './vault-store.ts';

/** What use cases that change a vault record may ask for. */
export interface VaultDeps {
  readonly store: VaultStore;
  /** Drops this container's cached record, so its next request sees the change at once. */
  readonly forget: (name: string) => void;
}

/** Builds a vault use case once per container, on first use. */
export function vaultUseCase<F>(make: (deps: VaultDeps) => F): () => F {
  let made: F | undefined;
  return () => {
    made ??= make({ store: vaultStore(), forget: (name) => container().vaults.forget(name) });
    return made;
  };
}
