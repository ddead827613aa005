/**
 * A keyring wraps and unwraps data keys under a key-encryption key it never
 * reveals. The encryption context is bound to the wrapped key (KMS encryption
 * context, GCM additional data locally): a wrapped key only unwraps for the
 * item it was made for.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface DataKey {
  /** 32 bytes. Callers zero it when done; never logged. */
  readonly plaintext: Buffer;
  readonly wrapped: Buffer;
}

export interface Keyring {
  /** Identifies the key-encryption key, stored beside each wrapped key. */
  readonly id: string;
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
}

/** Deterministic serialisation of a context, for use as additional data. */
export function canonicalContext(context: EncryptionContext): string {
  return JSON.stringify(
    Object.keys(context)
      .sort()
      .map((k) => [k, context[k]]),
  );
}
