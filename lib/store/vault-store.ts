import type { AuditEntry } from '../audit/audit-log.ts';
import type { Page, PageRequest } from '../secrets/model.ts';
import type { Vault } from '../vaults/model.ts';

/** Storage port for vaults. Writes are conditional on the revision read, so concurrent updates never lose one. */
export interface VaultStore {
  get(name: string): Promise<Vault | undefined>;
  /** ConflictError when the name is taken, live or soft-deleted. */
  create(vault: Vault, audit?: AuditEntry): Promise<void>;
  /** Writes `vault` (revision + 1) if the stored revision is still `vault.revision`; ConflictError otherwise. */
  replace(vault: Vault, audit?: AuditEntry): Promise<Vault>;
  list(deleted: boolean, page: PageRequest): Promise<Page<Vault>>;
  /** Removes a soft-deleted vault and every object stored in it. */
  purge(name: string, audit?: AuditEntry): Promise<void>;
}
