import { BadParameterError, NotFoundError } from '../errors.ts';
import { SECRET_NAME_PATTERN, SECRET_VERSION_PATTERN } from '../secrets/model.ts';
import type { ObjectNames } from '../secrets/names.ts';

/** Key names and versions follow the same rules as secrets' (1-127 of 0-9, a-z, A-Z, '-'; 32 hex). */
export const KEY_NAME_PATTERN = SECRET_NAME_PATTERN;
export const KEY_VERSION_PATTERN = SECRET_VERSION_PATTERN;

/** A name for a create or import: must match the pattern, else 400 naming the rule. */
export function requireKeyName(name: string | undefined): string {
  if (!name || !KEY_NAME_PATTERN.test(name)) {
    throw new BadParameterError(
      "The request URI contains an invalid name: key names are 1-127 characters of 0-9, a-z, A-Z and '-'.",
    );
  }
  return name;
}

/** A name being looked up: one that cannot exist is simply not found. */
export function lookupKeyName(name: string | undefined): string {
  if (!name || !KEY_NAME_PATTERN.test(name)) throw keyNotFound(name ?? '');
  return name;
}

/** A version segment; empty means the latest. One that cannot exist is not found. */
export function lookupKeyVersion(name: string, version: string | undefined): string | undefined {
  if (version === undefined || version === '') return undefined;
  if (!KEY_VERSION_PATTERN.test(version)) throw keyNotFound(name, version);
  return version;
}

export function keyNotFound(name: string, version?: string): NotFoundError {
  const shown = name.length > 127 ? `${name.slice(0, 127)}…` : name;
  return new NotFoundError(
    'KeyNotFound',
    version
      ? `A key with (name/id) ${shown}/${version.slice(0, 64)} was not found in this key vault.`
      : `A key with (name/id) ${shown} was not found in this key vault.`,
  );
}

export function deletedKeyNotFound(name: string): NotFoundError {
  return new NotFoundError('KeyNotFound', `Deleted Key not found: ${name.slice(0, 127)}`);
}

export const KEY_NAMES: ObjectNames = {
  label: 'key',
  lookup: lookupKeyName,
  notFound: keyNotFound,
  deletedNotFound: deletedKeyNotFound,
};
