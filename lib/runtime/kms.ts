import { KMSClient } from '@aws-sdk/client-kms';
import { KmsKeyring } from '../crypto/kms-keyring.ts';

export function kmsKeyring(keyId: string, region: string): KmsKeyring {
  return new KmsKeyring(new KMSClient({ region }), keyId);
}
