import { BadParameterError } from '../errors.ts';
import { type BackupKind, makeBackupSecret, makeRestoreSecret } from '../secrets/backup-secret.ts';
import type { KeyBackends } from './key-backends.ts';
import { decodeFacts } from './key-facts.ts';
import { keyNotFound, lookupKeyName } from './key-names.ts';
import { KEY_BACKUP, type KeysDeps } from './keys-deps.ts';

/**
 * BackupKey and RestoreKey: the secrets' sealed backup envelope. A software
 * version carries its private part (sealed with the rest); an HSM version
 * carries what its backend exports for backup, its material wrapped by the
 * HSM under a key that never leaves it (pkcs11-backup.ts), and is made again
 * in the HSM, under a new handle, on restore (AWS KMS, which lets nothing
 * out, exports the KMS key's id: kms-restore.ts). A backend that exports
 * nothing refuses the backup, saying why.
 */
export function keyBackupKind(backends: KeyBackends): BackupKind {
  return {
    ...KEY_BACKUP,
    async exportValue(version, value) {
      const facts = decodeFacts(version.facts);
      if (facts.protection === 'software') return value;
      const hsm = await backends.hsm();
      if (!hsm.exportForBackup) {
        throw new BadParameterError(
          "This key is HSM-protected, and this deployment's HSM does not export keys for backup. Use a " +
            'software key (kty RSA or EC) where a portable backup is needed.',
        );
      }
      return hsm.exportForBackup(facts, value);
    },
    async importValue(version, carried) {
      const facts = decodeFacts(version.facts);
      if (facts.protection === 'software') return { value: carried, undo: async () => undefined };
      const hsm = await backends.hsm();
      if (facts.protection !== backends.hsmKind || !hsm.importFromBackup) {
        throw new BadParameterError(
          `This backup holds HSM key versions of another kind of HSM (${facts.protection}) than this deployment's (${backends.hsmKind}).`,
        );
      }
      const value = await hsm.importFromBackup(facts, carried);
      return { value, undo: () => hsm.destroy(facts, value) };
    },
  };
}

/** The lookup is the key's own, so that a name that cannot exist is KeyNotFound, not SecretNotFound. */
export function makeBackupKey(deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends'>) {
  const backup = makeBackupSecret(deps, keyBackupKind(deps.backends));
  return async (vault: string, rawName: string | undefined): Promise<string> => {
    const name = lookupKeyName(rawName);
    const head = await deps.store.getHead(vault, name);
    if (!head || head.deletion) throw keyNotFound(name);
    return backup(vault, name);
  };
}

export function makeRestoreKey(deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends'>) {
  return makeRestoreSecret(deps, keyBackupKind(deps.backends));
}
