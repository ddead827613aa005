import type { AuditRecord } from './audit-record.ts';

/** Where records are made durable. A write that returns has been stored. */
export interface AuditLog {
  write(record: AuditRecord): Promise<void>;
}

/**
 * A record committed together with a change: the store puts it in the same
 * transaction and calls `committed()` once the transaction succeeded.
 */
export interface AuditEntry {
  /** The record, naming the changed object by its path in the vault ('secrets/{name}/{version}'). */
  record(objectPath?: string): AuditRecord;
  committed(): void;
}
