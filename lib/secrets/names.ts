import { BadParameterError, NotFoundError } from '../errors.ts';
import { SECRET_NAME_PATTERN, SECRET_VERSION_PATTERN } from './model.ts';

/** A name for a create or set: must match the pattern, else 400 naming the rule. */
export function requireSecretName(name: string | undefined): string {
  if (!name || !SECRET_NAME_PATTERN.test(name)) {
    throw new BadParameterError(
      "The request URI contains an invalid name: secret names are 1-127 characters of 0-9, a-z, A-Z and '-'.",
    );
  }
  return name;
}

/** A name being looked up: one that cannot exist is simply not found. */
export function lookupSecretName(name: string | undefined): string {
  if (!name || !SECRET_NAME_PATTERN.test(name)) throw secretNotFound(name ?? '');
  return name;
}

/** A version segment; empty means the latest. One that cannot exist is not found. */
export function lookupSecretVersion(name: string, version: string | undefined): string | undefined {
  if (version === undefined || version === '') return undefined;
  if (!SECRET_VERSION_PATTERN.test(version)) throw secretNotFound(name, version);
  return version;
}

export function secretNotFound(name: string, version?: string): NotFoundError {
  const shown = name.length > 127 ? `${name.slice(0, 127)}…` : name;
  return new NotFoundError(
    'SecretNotFound',
    version
      ? `A secret with (name/id) ${shown}/${version.slice(0, 64)} was not found in this key vault.`
      : `A secret with (name/id) ${shown} was not found in this key vault.`,
  );
}

export function deletedSecretNotFound(name: string): NotFoundError {
  return new NotFoundError('SecretNotFound', `Deleted Secret not found: ${name.slice(0, 127)}`);
}

/** How the versioned-object use cases name and look up one kind of object (secrets, keys). */
export interface ObjectNames {
  readonly label: 'secret' | 'key';
  /** A name being looked up: one that cannot exist is simply not found. */
  readonly lookup: (name: string | undefined) => string;
  readonly notFound: (name: string, version?: string) => Error;
  readonly deletedNotFound: (name: string) => Error;
}

export const SECRET_NAMES: ObjectNames = {
  label: 'secret',
  lookup: lookupSecretName,
  notFound: secretNotFound,
  deletedNotFound: deletedSecretNotFound,
};
