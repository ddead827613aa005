import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import { type AuditTable, auditPut } from './audit-items.ts';
import { type DynamoClient, getItem } from './dynamo-calls.ts';
import { type Collection, type Item, secretPk } from './secret-items.ts';
import { HEAD_SK, VERSION_SK_PREFIX } from './table-schema.ts';

/** What DynamoSecretStore's parts share: the table of secrets, and where audit records go. */
export interface SecretTable {
  readonly client: DynamoClient;
  readonly tableName: string;
  /** Where a change's audit record goes, in the change's own transaction. */
  readonly auditTable?: AuditTable | undefined;
  /** Which collection of versioned objects this table part serves: secrets, or keys. */
  readonly collection: Collection;
}

/** How messages name an object of the collection. */
export const nounOf = (collection: Collection) => (collection === 'keys' ? 'Key' : 'Secret');

export const key = (pk: string, sk: string): Item => ({ pk: { S: pk }, sk: { S: sk } });
export const versionSk = (version: string) => `${VERSION_SK_PREFIX}${version.toLowerCase()}`;

/** A secret's head item, read consistently; undefined when the name is unknown. */
export function getHeadItem(t: SecretTable, vault: string, name: string): Promise<Item | undefined> {
  return getItem(t.client, t.tableName, key(secretPk(vault, name, t.collection), HEAD_SK));
}

/** A change's items plus its audit record: the record is stored exactly when the change is. */
export function withAudit(
  t: SecretTable,
  items: TransactWriteItem[],
  audit: AuditEntry | undefined,
  objectPath: string,
): TransactWriteItem[] {
  if (!audit || !t.auditTable) return items;
  return [...items, auditPut(t.auditTable, audit.record(objectPath))];
}

export function softDeletedConflict(name: string, collection: Collection = 'secrets'): ConflictError {
  return new ConflictError(
    `${nounOf(collection)} ${name} is currently in a deleted but recoverable state, and its name cannot be reused; ` +
      'in this state, it can only be recovered or purged.',
  );
}
