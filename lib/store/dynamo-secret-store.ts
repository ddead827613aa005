import type { AuditEntry } from '../audit/audit-log.ts';
import type {
  Deletion,
  Page,
  PageRequest,
  SecretHead,
  SecretSummary,
  SecretVersion,
} from '../secrets/model.ts';
import type { AuditTable } from './audit-items.ts';
import type { DynamoClient } from './dynamo-calls.ts';
import { recovery, softDeletion, updateHead } from './dynamo-secret-head-updates.ts';
import { purge, restore } from './dynamo-secret-purge-restore.ts';
import { allVersions, getHead, getVersion, listCollection, listVersions } from './dynamo-secret-reads.ts';
import type { SecretTable } from './dynamo-secret-table.ts';
import { putVersion, updateVersion } from './dynamo-secret-version-writes.ts';
import { type Collection, deletedCollection, liveCollection } from './secret-items.ts';
import type { SecretStore } from './secret-store.ts';

export { softDeletedConflict } from './dynamo-secret-table.ts';

/**
 * SecretStore over one DynamoDB table (lib/store/table-schema.ts). Its parts:
 * dynamo-secret-reads.ts (reads and lists), dynamo-secret-version-writes.ts
 * (new and updated versions, built from dynamo-secret-transact-items.ts),
 * dynamo-secret-head-updates.ts (soft delete, recover, a purge's mark) and
 * dynamo-secret-purge-restore.ts.
 */
export class DynamoSecretStore implements SecretStore {
  protected readonly table: SecretTable;

  constructor(
    client: DynamoClient,
    tableName: string,
    /** Where a change's audit record goes, in the change's own transaction. */
    auditTable?: AuditTable,
    /** Keys share the layout and the code: DynamoKeyStore passes 'keys'. */
    collection: Collection = 'secrets',
  ) {
    this.table = { client, tableName, auditTable, collection };
  }

  async putVersion(vault: string, v: SecretVersion, audit?: AuditEntry): Promise<void> {
    return putVersion(this.table, vault, v, audit);
  }

  async getHead(vault: string, name: string): Promise<SecretHead | undefined> {
    return getHead(this.table, vault, name);
  }

  async getVersion(vault: string, name: string, version: string) {
    return getVersion(this.table, vault, name, version);
  }

  async updateVersion(
    ...[vault, name, version, update, now, audit]: Parameters<SecretStore['updateVersion']>
  ) {
    return updateVersion(this.table, { vault, name, version }, update, now, audit);
  }

  listSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>> {
    return listCollection(this.table, liveCollection(vault, this.table.collection), page);
  }

  listDeletedSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>> {
    return listCollection(this.table, deletedCollection(vault, this.table.collection), page);
  }

  async listVersions(vault: string, name: string, page: PageRequest) {
    return listVersions(this.table, vault, name, page);
  }

  async softDelete(vault: string, name: string, deletion: Deletion, audit?: AuditEntry) {
    return updateHead(this.table, vault, name, audit, softDeletion(vault, deletion, this.table.collection));
  }

  async recover(vault: string, name: string, audit?: AuditEntry) {
    return updateHead(this.table, vault, name, audit, recovery(vault, this.table.collection));
  }

  async purge(vault: string, name: string, audit?: AuditEntry): Promise<boolean> {
    return purge(this.table, vault, name, audit);
  }

  async allVersions(vault: string, name: string): Promise<SecretVersion[] | undefined> {
    return allVersions(this.table, vault, name);
  }

  async restore(
    vault: string,
    versions: readonly SecretVersion[],
    latestVersion: string,
    audit?: AuditEntry,
  ) {
    return restore(this.table, vault, versions, latestVersion, audit);
  }
}
