import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CryptoIntegrityError } from './errors.ts';
import { canonicalContext, type DataKey, type EncryptionContext, type Keyring } from './keyring.ts';

const FORMAT = 1;

/**
 * Development keyring: the key-encryption key is 32 random bytes in a file of
 * the data folder (mode 0600). Wrapped key = format(1) | iv(12) | tag(16) | ct(32),
 * AES-256-GCM with the canonical context as additional data.
 */
export class LocalKeyring implements Keyring {
  readonly id: string;

  private constructor(
    private readonly masterKey: Buffer,
    id: string,
  ) {
    this.id = id;
  }

  static fromKey(masterKey: Buffer, id = 'local'): LocalKeyring {
    if (masterKey.length !== 32) throw new Error('the local master key must be 32 bytes');
    return new LocalKeyring(masterKey, id);
  }

  /** Loads the master key file, creating it (0600) on first use. */
  static fromFile(path: string): LocalKeyring {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        // Another process created it between the check and the write: use theirs.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    return LocalKeyring.fromKey(readFileSync(path));
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const plaintext = randomBytes(32);
    return { plaintext, wrapped: this.wrap(plaintext, context) };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (wrapped.length !== 61 || wrapped[0] !== FORMAT)
      throw new CryptoIntegrityError('wrapped data key is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(1, 13));
    decipher.setAAD(Buffer.from(canonicalContext(context)));
    decipher.setAuthTag(wrapped.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(29)), decipher.final()]);
    } catch {
      throw new CryptoIntegrityError('wrapped data key does not open under this keyring and context');
    }
  }

  private wrap(plaintext: Buffer, context: EncryptionContext): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(Buffer.from(canonicalContext(context)));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), ct]);
  }
}
