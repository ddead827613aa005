import { ForbiddenError } from '../errors.ts';
import type { SecretVersionMeta } from './model.ts';
import { lookupSecretName, lookupSecretVersion, secretNotFound } from './names.ts';
import { type SecretsDeps, sealContext } from './secrets-deps.ts';

/** Opens one version (the latest when none is named). A disabled version is refused with 403. */
export function makeGetSecret(deps: Pick<SecretsDeps, 'store' | 'barrier'>) {
  return async (vault: string, rawName: string | undefined, rawVersion?: string) => {
    const name = lookupSecretName(rawName);
    const wanted = lookupSecretVersion(name, rawVersion);
    const found = wanted
      ? await deps.store.getVersion(vault, name, wanted)
      : await deps.store.getHead(vault, name).then((h) => h && { version: h.latest, deletion: h.deletion });
    if (!found || found.deletion) throw secretNotFound(name, wanted);
    const secret = found.version;
    if (!secret.attributes.enabled)
      throw new ForbiddenError('Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    const plaintext = await deps.barrier.open(secret.sealed, sealContext(vault, secret.name, secret.version));
    const { sealed: _sealed, ...meta } = secret;
    return { secret: meta as SecretVersionMeta, value: plaintext.toString('utf8') };
  };
}
