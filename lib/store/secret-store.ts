import type { AuditEntry } from '../audit/audit-log.ts';
import type {
  Deletion,
  Page,
  PageRequest,
  SecretHead,
  SecretSummary,
  SecretUpdate,
  SecretVersion,
} from '../secrets/model.ts';

/**
 * Storage port for secrets. Implementations only ever see sealed values.
 * Names are matched case-insensitively. Writes that belong together are
 * atomic: a new version and the latest pointer, a restore's versions and head.
 */
export interface SecretStore {
  /** Adds a version and makes it the latest. ConflictError while the name is soft-deleted. */
  putVersion(vault: string, version: SecretVersion, audit?: AuditEntry): Promise<void>;
  /** The latest version and deletion state; undefined when the name is unknown. */
  getHead(vault: string, name: string): Promise<SecretHead | undefined>;
  /** One version and the deletion state of its secret, in one round trip. */
  getVersion(
    vault: string,
    name: string,
    version: string,
  ): Promise<{ version: SecretVersion; deletion?: Deletion } | undefined>;
  /** Updates one version of a live secret; undefined when there is no such live version. */
  updateVersion(
    vault: string,
    name: string,
    version: string,
    update: SecretUpdate,
    now: number,
    audit?: AuditEntry,
  ): Promise<SecretVersion | undefined>;
  listSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>>;
  listDeletedSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>>;
  /** Versions of a live secret; undefined when the secret is unknown or deleted. */
  listVersions(vault: string, name: string, page: PageRequest): Promise<Page<SecretSummary> | undefined>;
  /** Soft-deletes a live secret; undefined when there is none. */
  softDelete(
    vault: string,
    name: string,
    deletion: Deletion,
    audit?: AuditEntry,
  ): Promise<SecretHead | undefined>;
  /** Brings a soft-deleted secret back; undefined when none is deleted under that name. */
  recover(vault: string, name: string, audit?: AuditEntry): Promise<SecretHead | undefined>;
  /** Removes a soft-deleted secret and every version; false when none is deleted under that name. */
  purge(vault: string, name: string, audit?: AuditEntry): Promise<boolean>;
  /** Every version of a live secret (for backup); undefined when unknown or deleted. */
  allVersions(vault: string, name: string): Promise<SecretVersion[] | undefined>;
  /** Writes a secret restored from a backup. ConflictError when the name exists, live or deleted. */
  restore(
    vault: string,
    versions: readonly SecretVersion[],
    latestVersion: string,
    audit?: AuditEntry,
  ): Promise<void>;
}
