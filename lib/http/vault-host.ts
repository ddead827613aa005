import { BadParameterError, NotFoundError } from '../errors.ts';

export const VAULT_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

export interface VaultAddress {
  /** Lower-cased vault name. */
  readonly name: string;
  /** https://{host}: the base of every identifier in responses. */
  readonly url: string;
}

/**
 * A vault is a host name (DESIGN.md #2): {vault}.{domain}. The bare domain,
 * and on a laptop localhost or 127.0.0.1, is the default vault when one is set.
 */
export function resolveVaultHost(
  host: string | undefined,
  domain: string,
  defaultVault?: string,
): VaultAddress {
  if (!host) throw new BadParameterError('The request has no Host header; the host names the vault.');
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const url = `https://${host.toLowerCase()}`;
  const bare = hostname === domain || (domain === 'localhost' && ['127.0.0.1', '[::1]'].includes(hostname));
  if (bare || !hostname.endsWith(`.${domain}`)) {
    if (defaultVault) return { name: defaultVault.toLowerCase(), url };
    throw new NotFoundError('VaultNotFound', `No vault answers at host ${hostname.slice(0, 253)}.`);
  }
  const name = hostname.slice(0, -domain.length - 1);
  if (!VAULT_NAME_PATTERN.test(name)) {
    throw new NotFoundError('VaultNotFound', `No vault answers at host ${hostname.slice(0, 253)}.`);
  }
  return { name, url };
}
