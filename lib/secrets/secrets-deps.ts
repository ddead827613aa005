import type { Barrier } from '../crypto/barrier.ts';
import type { SecretStore } from '../store/secret-store.ts';

/** Everything the secret use cases may ask for; each takes only what it uses. */
export interface SecretsDeps {
  readonly store: SecretStore;
  readonly barrier: Barrier;
  /** Unix seconds. */
  readonly now: () => number;
  readonly newVersionId: () => string;
}

export const sealContext = (vault: string, name: string, version: string) => ({
  vault: vault.toLowerCase(),
  kind: 'secret',
  name: name.toLowerCase(),
  version: version.toLowerCase(),
});
