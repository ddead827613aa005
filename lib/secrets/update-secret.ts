import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersionMeta } from './model.ts';
import { lookupSecretName, lookupSecretVersion, secretNotFound } from './names.ts';
import type { UpdateSecretInput } from './secret-schemas.ts';
import type { SecretsDeps } from './secrets-deps.ts';

/** Changes the attributes, tags or content type of one version (the latest when none is named). */
export function makeUpdateSecret(deps: Pick<SecretsDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    rawVersion: string | undefined,
    input: UpdateSecretInput,
    audit?: AuditEntry,
  ) => {
    const name = lookupSecretName(rawName);
    let version = lookupSecretVersion(name, rawVersion);
    if (!version) {
      const head = await deps.store.getHead(vault, name);
      if (!head || head.deletion) throw secretNotFound(name);
      version = head.latest.version;
    }
    const updated = await deps.store.updateVersion(
      vault,
      name,
      version,
      {
        ...(input.attributes != null && { attributes: input.attributes }),
        ...(input.contentType != null && { contentType: input.contentType }),
        ...(input.tags != null && { tags: input.tags }),
      },
      deps.now(),
      audit,
    );
    if (!updated) throw secretNotFound(name, rawVersion || undefined);
    const { sealed: _sealed, ...meta } = updated;
    return meta as SecretVersionMeta;
  };
}
