import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError } from '../errors.ts';
import { refuseReleasePolicy } from './create-key.ts';
import { findLiveKeyVersion } from './get-key.ts';
import { decodeFacts, encodeFacts } from './key-facts.ts';
import { keyNotFound } from './key-names.ts';
import type { UpdateKeyInput } from './key-schemas.ts';
import { keyOpsFor } from './key-types.ts';
import type { KeysDeps } from './keys-deps.ts';

/** The validity window after the update (a null removes a bound) must still open before it closes. */
function requireValidityWindow(
  stored: { readonly nbf?: number | undefined; readonly exp?: number | undefined },
  asked: UpdateKeyInput['attributes'],
) {
  const nbf = asked?.nbf !== undefined ? asked.nbf : stored.nbf;
  const exp = asked?.exp !== undefined ? asked.exp : stored.exp;
  if (nbf != null && exp != null && nbf >= exp) {
    throw new BadParameterError('nbf (not before) must be earlier than exp (expires)');
  }
}

/** Changes the key_ops, attributes or tags of one version (the latest when none is named). */
export function makeUpdateKey(deps: Pick<KeysDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    rawVersion: string | undefined,
    input: UpdateKeyInput,
    audit?: AuditEntry,
  ) => {
    refuseReleasePolicy(input.release_policy);
    const current = await findLiveKeyVersion(deps, vault, rawName, rawVersion);
    requireValidityWindow(current.attributes, input.attributes);
    const facts = decodeFacts(current.facts);
    const keyOps = input.key_ops != null ? keyOpsFor(facts.kty, input.key_ops) : undefined;
    const updated = await deps.store.updateVersion(
      vault,
      current.name,
      current.version,
      {
        ...(input.attributes != null && {
          attributes: {
            ...(input.attributes.enabled != null && { enabled: input.attributes.enabled }),
            ...(input.attributes.nbf !== undefined && { nbf: input.attributes.nbf }),
            ...(input.attributes.exp !== undefined && { exp: input.attributes.exp }),
          },
        }),
        ...(input.tags != null && { tags: input.tags }),
        ...(keyOps && { facts: encodeFacts({ ...facts, keyOps }) }),
      },
      deps.now(),
      audit,
    );
    if (!updated) throw keyNotFound(current.name, rawVersion || undefined);
    return updated;
  };
}
