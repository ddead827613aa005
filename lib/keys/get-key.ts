import type { Deletion, SecretVersion } from '../secrets/model.ts';
import { keyNotFound, lookupKeyName, lookupKeyVersion } from './key-names.ts';
import type { KeysDeps } from './keys-deps.ts';

/** One live version (the latest when none is named), sealed part included; KeyNotFound otherwise. */
export async function findLiveKeyVersion(
  deps: Pick<KeysDeps, 'store'>,
  vault: string,
  rawName: string | undefined,
  rawVersion?: string,
): Promise<SecretVersion> {
  const name = lookupKeyName(rawName);
  const wanted = lookupKeyVersion(name, rawVersion);
  const found: { version: SecretVersion; deletion?: Deletion } | undefined = wanted
    ? await deps.store.getVersion(vault, name, wanted)
    : await deps.store.getHead(vault, name).then((h) => h && { version: h.latest, deletion: h.deletion });
  if (!found || found.deletion) throw keyNotFound(name, wanted);
  return found.version;
}

/** GetKey: the public part of a version. A disabled key is still shown (only its operations are refused). */
export function makeGetKey(deps: Pick<KeysDeps, 'store'>) {
  return (vault: string, rawName: string | undefined, rawVersion?: string) =>
    findLiveKeyVersion(deps, vault, rawName, rawVersion);
}
