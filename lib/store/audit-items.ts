import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '../audit/audit-record.ts';
import type { Item } from './secret-items.ts';

/**
 * Audit records live in a table of their own (its stream feeds the shipper;
 * its TTL keeps hot records queryable for a configured time):
 *   pk = {vault}/{yyyy-mm-dd}   sk = {time}#{id}
 * with the fields a query filters on beside the record itself.
 */
export interface AuditTable {
  readonly name: string;
  /** Records stay queryable in the table this long; the sinks keep them after. */
  readonly hotDays: number;
}

export function auditItem(table: AuditTable, record: AuditRecord): Item {
  const expiresAt = Math.floor(Date.parse(record.time) / 1000) + table.hotDays * 86_400;
  return {
    pk: { S: `${record.vault}/${record.time.slice(0, 10)}` },
    sk: { S: `${record.time}#${record.id}` },
    record: { S: JSON.stringify(record) },
    operationName: { S: record.operationName },
    caller: { S: record.identity.claim.oid ?? '-' },
    resultType: { S: record.resultType },
    expiresAt: { N: `${expiresAt}` },
  };
}

/** The record as one more item of a change's transaction: both land, or neither. */
export function auditPut(table: AuditTable, record: AuditRecord): TransactWriteItem {
  return { Put: { TableName: table.name, Item: auditItem(table, record) } };
}
