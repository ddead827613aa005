/**
 * RestoreKey of a key version held in AWS KMS. KMS never lets key material
 * out, in any form, so the backup of such a version holds only the KMS key's
 * id (sealed with the rest of the backup). Purge schedules the KMS key's
 * deletion after KMS's waiting period (scheduleDeletion); restoring within
 * that period cancels the deletion and enables the key again, so the version
 * comes back with its own key. After the period, the key is gone and the
 * version cannot be restored: the message says so.
 *
 * A KMS key is never shared between two key versions: a backup restores only
 * a version whose KMS key is pending deletion (the key it came from was
 * purged). While that key lives (or is soft-deleted), restoring is a 409.
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { BadParameterError, ConflictError } from '#lib/errors.ts';
import { callKms, kmsErrorName, translateKmsError } from './kms-errors.ts';

/** Makes the KMS key of a backed-up version usable again; throws why it cannot be. */
export async function reviveKmsKey(client: Pick<KMSClient, 'send'>, keyId: string): Promise<void> {
  let state: string | undefined;
  try {
    const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    state = described.KeyMetadata?.KeyState;
  } catch (error) {
    if (kmsErrorName(error) === 'NotFoundException') state = undefined;
    else throw translateKmsError(error);
  }
  if (state === 'PendingDeletion') {
    await callKms(() => client.send(new CancelKeyDeletionCommand({ KeyId: keyId })));
    // Cancelling leaves the key disabled.
    await callKms(() => client.send(new EnableKeyCommand({ KeyId: keyId })));
    return;
  }
  if (state === 'Enabled' || state === 'Disabled') {
    throw new ConflictError(
      'A version of this backup is held in AWS KMS by a key that has not been purged: KMS keys are not copied, ' +
        'so the backup restores only after that key is purged (within the KMS waiting period).',
    );
  }
  throw new BadParameterError(
    'A version of this backup was held in AWS KMS by a KMS key that no longer exists (its waiting period after ' +
      'purge has ended): it cannot be restored.',
  );
}
