import { BadParameterError } from '../errors.ts';
import { makeBackupSecret } from '../secrets/backup-secret.ts';
import { decodeFacts } from './key-facts.ts';
import { keyNotFound, lookupKeyName } from './key-names.ts';
import { KEY_BACKUP, type KeysDeps } from './keys-deps.ts';

/**
 * BackupKey: the secrets' sealed backup envelope, for software keys. An
 * HSM-protected key is refused: its material never leaves the HSM (it is not
 * extractable), so a backup could only name it, and the key it restored would
 * be broken once the original is purged (purge destroys the HSM objects), or
 * would share the HSM objects with the original while it lives.
 */
export function makeBackupKey(deps: Pick<KeysDeps, 'store' | 'barrier'>) {
  const backup = makeBackupSecret(deps, KEY_BACKUP);
  return async (vault: string, rawName: string | undefined): Promise<string> => {
    const name = lookupKeyName(rawName);
    const head = await deps.store.getHead(vault, name);
    if (!head || head.deletion) throw keyNotFound(name);
    const versions = await deps.store.versionsOf(vault, name);
    if (versions.some((v) => decodeFacts(v.facts).protection !== 'software')) {
      throw new BadParameterError(
        `Key ${head.latest.name} is HSM-protected: its key material never leaves the HSM, so it cannot be backed ` +
          "up. Rely on the HSM's own backups for it, or use a software key (kty RSA or EC) where a portable " +
          'backup is needed.',
      );
    }
    return backup(vault, name);
  };
}
