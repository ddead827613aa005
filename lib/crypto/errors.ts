/** A sealed value, wrapped key or backup did not authenticate. Carries no material. */
export class CryptoIntegrityError extends Error {
  override readonly name = 'CryptoIntegrityError';
}
