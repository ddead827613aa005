import {
  BadParameterError,
  ForbiddenError,
  KeyVaultError,
  ServiceUnavailableError,
  ThrottledError,
} from '#lib/errors.ts';

/** The exception name of an AWS SDK error, or '' when it has none worth naming. */
export function kmsErrorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  // Only a plain identifier is echoed: AWS messages (and odd error objects)
  // may carry ARNs, request details or worse, so nothing else reaches callers.
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_.]{0,99}$/.test(name) ? name : '';
}

/**
 * Translates a KMS failure on a key version into ours. Messages name the
 * condition (at most the exception's name), never AWS's own message, key
 * material or data.
 */
export function translateKmsError(error: unknown): KeyVaultError {
  if (error instanceof KeyVaultError) return error;
  const name = kmsErrorName(error);
  switch (name) {
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return new BadParameterError('ciphertext does not decrypt under this key');
    case 'KMSInvalidStateException':
    case 'DisabledException':
      return new ForbiddenError('The key is not usable in its current state (disabled or pending deletion).');
    case 'ThrottlingException':
      return new ThrottledError('The key service is throttling requests; retry later.');
    default:
      return new ServiceUnavailableError(`The key service is unavailable (${name || 'unknown error'}).`);
  }
}

/** Runs one KMS call, translating its failure. */
export async function callKms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateKmsError(error);
  }
}
