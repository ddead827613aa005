import type { Barrier, SealContext } from '../crypto/barrier.ts';
import type { BackupKind } from '../secrets/backup-secret.ts';
import type { KeyStore } from '../store/key-store.ts';
import type { KeyBackends } from './key-backends.ts';
import { keyNotFound } from './key-names.ts';

/** Everything the key use cases may ask for; each takes only what it uses. */
export interface KeysDeps {
  readonly store: KeyStore;
  readonly barrier: Barrier;
  readonly backends: KeyBackends;
  /** Unix seconds. */
  readonly now: () => number;
  readonly newVersionId: () => string;
}

/** A key version's private part (or HSM handle) is sealed under kind 'key', bound to vault, name and version. */
export const keySealContext = (vault: string, name: string, version: string): SealContext => ({
  vault: vault.toLowerCase(),
  kind: 'key',
  name: name.toLowerCase(),
  version: version.toLowerCase(),
});

export const KEY_BACKUP: BackupKind = { label: 'key', notFound: keyNotFound, sealContext: keySealContext };
