import type { PageRequest } from '../secrets/model.ts';
import { keyNotFound, lookupKeyName } from './key-names.ts';
import type { KeysDeps } from './keys-deps.ts';

/** Lists carry identifiers and attributes only. */
export function makeListKeys(deps: Pick<KeysDeps, 'store'>) {
  return (vault: string, page: PageRequest) => deps.store.listSecrets(vault, page);
}

export function makeListDeletedKeys(deps: Pick<KeysDeps, 'store'>) {
  return (vault: string, page: PageRequest) => deps.store.listDeletedSecrets(vault, page);
}

export function makeListKeyVersions(deps: Pick<KeysDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined, page: PageRequest) => {
    const name = lookupKeyName(rawName);
    const result = await deps.store.listVersions(vault, name, page);
    if (!result) throw keyNotFound(name);
    return result;
  };
}
