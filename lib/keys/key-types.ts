import { BadParameterError } from '../errors.ts';
import type { KeyType } from './key-operations.ts';

export const KEY_TYPES: readonly KeyType[] = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct-HSM'];

/** What each key type can do: the default key_ops of a new key, and the only ones it may hold. */
const OPERATIONS_OF: Readonly<Record<KeyType, readonly string[]>> = {
  RSA: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
  'RSA-HSM': ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
  EC: ['sign', 'verify'],
  'EC-HSM': ['sign', 'verify'],
  'oct-HSM': ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
};

export function requireKeyType(kty: string | undefined): KeyType {
  if (!kty || !(KEY_TYPES as readonly string[]).includes(kty)) {
    throw new BadParameterError(`kty must be one of ${KEY_TYPES.join(', ')}.`);
  }
  return kty as KeyType;
}

export const isHsmType = (kty: KeyType) => kty.endsWith('-HSM');

/** The key_ops of a new or updated version: the type's own when none are asked for. */
export function keyOpsFor(kty: KeyType, asked: readonly string[] | null | undefined): string[] {
  const allowed = OPERATIONS_OF[kty];
  if (asked == null) return [...allowed];
  const unique = [...new Set(asked)];
  const refused = unique.filter((op) => !allowed.includes(op));
  if (refused.length > 0) {
    throw new BadParameterError(
      `key_ops: a ${kty} key can only ${allowed.join(', ')}; ${refused.map((op) => op.slice(0, 32)).join(', ')} is not allowed.`,
    );
  }
  return unique;
}
