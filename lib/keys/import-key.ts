import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError } from '../errors.ts';
import { requireKeyTypeAllowed } from '../vaults/tier.ts';
import type { KeyVault } from './create-key.ts';
import { refuseReleasePolicy } from './create-key.ts';
import { factsOf } from './key-facts.ts';
import { requireKeyName } from './key-names.ts';
import type { ImportKeyInput } from './key-schemas.ts';
import { keyOpsFor } from './key-types.ts';
import type { KeysDeps } from './keys-deps.ts';
import { storeNewKeyVersion } from './new-key-version.ts';
import { importJwk } from './software/jwk-import.ts';

/**
 * Imports a JWK's private key as a new version. Software keys (kty RSA, EC)
 * are sealed like generated ones. Importing into the HSM (Hsm: true, or an
 * -HSM kty) is refused: see the message.
 */
export function makeImportKey(
  deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>,
) {
  return async (vault: KeyVault, rawName: string | undefined, input: ImportKeyInput, audit?: AuditEntry) => {
    const name = requireKeyName(rawName);
    refuseReleasePolicy(input.release_policy);
    const kty = typeof input.key.kty === 'string' ? input.key.kty : '';
    if (input.Hsm === true || kty.endsWith('-HSM')) {
      requireKeyTypeAllowed(vault.sku, kty.endsWith('-HSM') ? kty : `${kty}-HSM`);
      throw new BadParameterError(
        'Importing key material into the HSM is not offered: HSM-protected keys are generated inside the HSM ' +
          '(CreateKey with kty RSA-HSM, EC-HSM or oct-HSM). Import it as a software key (Hsm: false, kty RSA or EC).',
      );
    }
    const imported = importJwk(input.key);
    const asked = input.key.key_ops;
    if (asked != null && (!Array.isArray(asked) || asked.some((op) => typeof op !== 'string'))) {
      throw new BadParameterError('key.key_ops must be an array of operation names.');
    }
    const keyOps = keyOpsFor(imported.kty, asked as string[] | undefined);
    const version = deps.newVersionId();
    return storeNewKeyVersion(
      deps,
      deps.backends.software,
      { vault: vault.name, name, version },
      { facts: factsOf(imported.publicJwk, 'software', keyOps), privatePart: imported.pkcs8 },
      { attributes: input.attributes ?? null, tags: input.tags ?? null },
      audit,
    );
  };
}
