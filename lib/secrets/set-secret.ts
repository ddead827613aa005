import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretAttributes, SecretVersion } from './model.ts';
import { requireSecretName } from './names.ts';
import type { SetSecretInput } from './secret-schemas.ts';
import type { SecretsDeps } from './secrets-deps.ts';
import { sealContext } from './secrets-deps.ts';

/** Stores a new version (sealed under a fresh data key) and makes it the latest. */
export function makeSetSecret(deps: Pick<SecretsDeps, 'store' | 'barrier' | 'now' | 'newVersionId'>) {
  return async (vault: string, rawName: string | undefined, input: SetSecretInput, audit?: AuditEntry) => {
    const name = requireSecretName(rawName);
    const version = deps.newVersionId();
    const now = deps.now();
    const sealed = await deps.barrier.seal(
      Buffer.from(input.value, 'utf8'),
      sealContext(vault, name, version),
    );
    const secret: SecretVersion = {
      name,
      version,
      attributes: newVersionAttributes(input.attributes, now),
      ...(input.contentType != null && { contentType: input.contentType }),
      ...(input.tags != null && { tags: input.tags }),
      sealed,
    };
    await deps.store.putVersion(vault, secret, audit);
    return { secret, value: input.value };
  };
}

/** A new version's attributes: enabled unless said otherwise, created and updated now. */
export function newVersionAttributes(
  attrs: { enabled?: boolean | null; nbf?: number | null; exp?: number | null } | null | undefined,
  now: number,
): SecretAttributes {
  return {
    enabled: attrs?.enabled ?? true,
    ...(attrs?.nbf != null && { nbf: attrs.nbf }),
    ...(attrs?.exp != null && { exp: attrs.exp }),
    created: now,
    updated: now,
  };
}
