import { BadParameterError } from '../errors.ts';
import type { Sku } from './model.ts';

/**
 * The standard tier keeps software-protected keys only: HSM-protected key
 * types (RSA-HSM, EC-HSM, oct-HSM) need a premium vault. Every key creation
 * and import passes through this check.
 */
export function requireKeyTypeAllowed(sku: Sku, kty: string): void {
  if (sku !== 'premium' && /-HSM$/i.test(kty)) {
    throw new BadParameterError(
      `Key type ${kty.slice(0, 16)} is HSM-protected and needs a premium vault; this vault is on the standard tier.`,
    );
  }
}
