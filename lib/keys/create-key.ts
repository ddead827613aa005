import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError } from '../errors.ts';
import type { Sku } from '../vaults/model.ts';
import { requireKeyTypeAllowed } from '../vaults/tier.ts';
import { requireKeyName } from './key-names.ts';
import type { CreateKeyInput } from './key-schemas.ts';
import { isHsmType, keyOpsFor, requireKeyType } from './key-types.ts';
import type { KeysDeps } from './keys-deps.ts';
import { storeNewKeyVersion } from './new-key-version.ts';

export interface KeyVault {
  readonly name: string;
  readonly sku: Sku;
}

export const refuseReleasePolicy = (policy: unknown) => {
  if (policy != null) {
    throw new BadParameterError(
      'release_policy: secure key release needs an attestation service, which Arca does not offer.',
    );
  }
};

/** Creates a key (or a new version of it) where its type lives: in this process, or in the HSM. */
export function makeCreateKey(
  deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>,
) {
  return async (vault: KeyVault, rawName: string | undefined, input: CreateKeyInput, audit?: AuditEntry) => {
    const name = requireKeyName(rawName);
    const kty = requireKeyType(input.kty);
    requireKeyTypeAllowed(vault.sku, kty);
    refuseReleasePolicy(input.release_policy);
    const keyOps = keyOpsFor(kty, input.key_ops);
    const backend = isHsmType(kty) ? await deps.backends.hsm() : deps.backends.software;
    const version = deps.newVersionId();
    const made = await backend.create(
      {
        kty,
        keyOps,
        ...(input.key_size != null && { keySize: input.key_size }),
        ...(input.public_exponent != null && { publicExponent: input.public_exponent }),
        ...(input.crv != null && { crv: input.crv }),
      },
      { vault: vault.name, name, version },
    );
    return storeNewKeyVersion(
      deps,
      backend,
      { vault: vault.name, name, version },
      made,
      { attributes: input.attributes ?? null, tags: input.tags ?? null },
      audit,
    );
  };
}
