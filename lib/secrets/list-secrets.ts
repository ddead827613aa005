import { BadParameterError } from '../errors.ts';
import type { PageRequest } from './model.ts';
import { lookupSecretName, secretNotFound } from './names.ts';
import type { SecretsDeps } from './secrets-deps.ts';

/** Lists never carry values: the store's summaries hold none. */
export function makeListSecrets(deps: Pick<SecretsDeps, 'store'>) {
  return (vault: string, page: PageRequest) => deps.store.listSecrets(vault, page);
}

export function makeListDeletedSecrets(deps: Pick<SecretsDeps, 'store'>) {
  return (vault: string, page: PageRequest) => deps.store.listDeletedSecrets(vault, page);
}

export function makeListSecretVersions(deps: Pick<SecretsDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined, page: PageRequest) => {
    const name = lookupSecretName(rawName);
    const result = await deps.store.listVersions(vault, name, page);
    if (!result) throw secretNotFound(name);
    return result;
  };
}

/** maxresults: 1–25, default 25 (the service's maximum). */
export function pageRequest(maxresults: string | undefined, token: string | undefined): PageRequest {
  let maxResults = 25;
  if (maxresults !== undefined) {
    maxResults = Number(maxresults);
    if (!/^\d+$/.test(maxresults) || maxResults < 1 || maxResults > 25) {
      throw new BadParameterError(
        "Invalid value for query parameter 'maxresults': must be an integer from 1 to 25.",
      );
    }
  }
  return { maxResults, ...(token && { token }) };
}
