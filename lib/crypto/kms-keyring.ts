import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ServiceUnavailableError, ThrottledError } from '../errors.ts';
import { CryptoIntegrityError } from './errors.ts';
import type { DataKey, EncryptionContext, Keyring } from './keyring.ts';

/**
 * Production keyring: AWS KMS (a CloudHSM custom key store for premium vaults
 * is the same API). The encryption context goes to KMS with every call, so a
 * wrapped key only decrypts for the item it was made for, and CloudTrail
 * records which item each Decrypt served.
 */
export class KmsKeyring implements Keyring {
  /** Counts KMS round trips; the benchmark reads it. */
  calls = 0;

  constructor(
    private readonly client: Pick<KMSClient, 'send'>,
    readonly id: string,
  ) {}

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    this.calls++;
    const out = await this.send(() =>
      this.client.send(
        new GenerateDataKeyCommand({ KeyId: this.id, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob) throw new ServiceUnavailableError('KMS returned no data key');
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    this.calls++;
    const out = await this.send(() =>
      this.client.send(
        new DecryptCommand({ KeyId: this.id, CiphertextBlob: wrapped, EncryptionContext: { ...context } }),
      ),
    );
    if (!out.Plaintext) throw new ServiceUnavailableError('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }

  /** Translates KMS failures into ours; messages name the condition, never material. */
  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw new CryptoIntegrityError('wrapped data key does not open under this keyring and context');
      }
      if (name === 'ThrottlingException' || name === 'LimitExceededException') {
        throw new ThrottledError('The key service is throttling requests; retry later.');
      }
      throw new ServiceUnavailableError(`The key service is unavailable (${name || 'unknown error'}).`);
    }
  }
}
