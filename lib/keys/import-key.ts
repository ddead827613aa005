import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError } from '../errors.ts';
import { requireKeyTypeAllowed } from '../vaults/tier.ts';
import type { KeyVault } from './create-key.ts';
import { refuseReleasePolicy } from './create-key.ts';
import { factsOf } from './key-facts.ts';
import { requireKeyName } from './key-names.ts';
import type { KeyType } from './key-operations.ts';
import type { ImportKeyInput } from './key-schemas.ts';
import { KEY_TYPES, keyOpsFor } from './key-types.ts';
import type { KeysDeps } from './keys-deps.ts';
import { storeNewKeyVersion } from './new-key-version.ts';
import { importJwk } from './software/jwk-import.ts';

/**
 * Imports a JWK's private key as a new version. Software keys (kty RSA, EC)
 * are sealed like generated ones. Into the HSM (Hsm: true, or a kty RSA-HSM,
 * EC-HSM, oct-HSM) on a premium vault: the HSM backend makes the key there,
 * with the protection of a generated one, and Arca keeps its handle as for a
 * created HSM key.
 * Messages never quote the key's members.
 */
export function makeImportKey(
  deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>,
) {
  return async (vault: KeyVault, rawName: string | undefined, input: ImportKeyInput, audit?: AuditEntry) => {
    const name = requireKeyName(rawName);
    refuseReleasePolicy(input.release_policy);
    const kty = typeof input.key.kty === 'string' ? input.key.kty : '';
    const asked = input.key.key_ops;
    if (asked != null && (!Array.isArray(asked) || asked.some((op) => typeof op !== 'string'))) {
      throw new BadParameterError('key.key_ops must be an array of operation names.');
    }
    const extra = { attributes: input.attributes ?? null, tags: input.tags ?? null };

    if (input.Hsm === true || kty.endsWith('-HSM')) {
      const hsmKty = kty.endsWith('-HSM') ? kty : `${kty}-HSM`;
      requireKeyTypeAllowed(vault.sku, hsmKty);
      if (!(KEY_TYPES as readonly string[]).includes(hsmKty)) {
        throw new BadParameterError(
          "JWK member 'kty' must be RSA, EC or oct (or RSA-HSM, EC-HSM, oct-HSM) to import a key into the HSM.",
        );
      }
      const keyOps = keyOpsFor(hsmKty as KeyType, asked as string[] | undefined);
      const backend = await deps.backends.hsm();
      if (!backend.importKey) {
        throw new BadParameterError("This deployment's HSM does not take imported key material.");
      }
      const ids = { vault: vault.name, name, version: deps.newVersionId() };
      const made = await backend.importKey({ ...input.key, kty: hsmKty }, keyOps, ids);
      return storeNewKeyVersion(deps, backend, ids, made, extra, audit);
    }

    const imported = importJwk(input.key);
    const keyOps = keyOpsFor(imported.kty, asked as string[] | undefined);
    const version = deps.newVersionId();
    return storeNewKeyVersion(
      deps,
      deps.backends.software,
      { vault: vault.name, name, version },
      { facts: factsOf(imported.publicJwk, 'software', keyOps), privatePart: imported.pkcs8 },
      extra,
      audit,
    );
  };
}
