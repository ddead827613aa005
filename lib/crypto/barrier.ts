import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoIntegrityError } from './errors.ts';
import { canonicalContext, type EncryptionContext, type Keyring } from './keyring.ts';

/** What a sealed value is bound to: moving it to any other item makes it fail to open. */
export interface SealContext {
  readonly vault: string;
  /** secret, key, certificate, backup-secret … */
  readonly kind: string;
  readonly name: string;
  readonly version: string;
}

/** Ciphertext with everything needed to open it except the key-encryption key. */
export interface SealedValue {
  /** Keyring id that wrapped the data key. */
  readonly keyring: string;
  readonly wrappedKey: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

const AAD_PREFIX = 'arca-seal-v1';
/** Without it Node accepts a truncated tag (down to 4 bytes) on open, weakening forgery resistance. */
const TAG_LENGTH = 16;

function toEncryptionContext(context: SealContext): EncryptionContext {
  return { vault: context.vault, kind: context.kind, name: context.name, version: context.version };
}

/**
 * The barrier: the only place values are sealed and opened. Each sealed value
 * gets its own fresh 256-bit data key, wrapped by the keyring; AES-256-GCM
 * with additional data binding vault, kind, name and version.
 */
export class Barrier {
  constructor(private readonly keyring: Keyring) {}

  async seal(plaintext: Buffer, context: SealContext): Promise<SealedValue> {
    const encryptionContext = toEncryptionContext(context);
    const dataKey = await this.keyring.generateDataKey(encryptionContext);
    try {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv, { authTagLength: TAG_LENGTH });
      cipher.setAAD(additionalData(encryptionContext));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        keyring: this.keyring.id,
        wrappedKey: dataKey.wrapped,
        iv,
        tag: cipher.getAuthTag(),
        ciphertext,
      };
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  /** Throws CryptoIntegrityError when the value was altered or belongs to another item. */
  async open(sealed: SealedValue, context: SealContext): Promise<Buffer> {
    const encryptionContext = toEncryptionContext(context);
    const key = await this.keyring.unwrapDataKey(sealed.wrappedKey, encryptionContext);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(additionalData(encryptionContext));
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    } catch {
      throw new CryptoIntegrityError('sealed value does not open for this item');
    } finally {
      key.fill(0);
    }
  }
}

function additionalData(context: EncryptionContext): Buffer {
  return Buffer.from(`${AAD_PREFIX}${canonicalContext(context)}`);
}
