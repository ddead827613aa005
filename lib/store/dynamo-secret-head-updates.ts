import { TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { Deletion, SecretHead } from '../secrets/model.ts';
import { cancellationReasons, isConditionFailure, translateDynamoError } from './dynamo-errors.ts';
import { getHead } from './dynamo-secret-reads.ts';
import { key, type SecretTable, withAudit } from './dynamo-secret-table.ts';
import {
  type Collection,
  deletedCollection,
  headFromItem,
  type Item,
  liveCollection,
  secretPk,
} from './secret-items.ts';
import { HEAD_SK } from './table-schema.ts';

/** Changes of a secret's deletion state, made on its head alone: soft delete, recover, a purge's mark. */
export interface HeadUpdate {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeValues: Item;
}

/** Soft-deletes a live secret: it moves to the vault's deleted collection. */
export function softDeletion(vault: string, deletion: Deletion, collection: Collection): HeadUpdate {
  return {
    UpdateExpression: 'SET deletedDate = :d, scheduledPurgeDate = :p, gsi1pk = :g',
    ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedDate)',
    ExpressionAttributeValues: {
      ':d': { N: `${deletion.deletedDate}` },
      ':p': { N: `${deletion.scheduledPurgeDate}` },
      ':g': { S: deletedCollection(vault, collection) },
    },
  };
}

/** Brings a soft-deleted secret back, unless a purge of it has begun. */
export function recovery(vault: string, collection: Collection): HeadUpdate {
  return {
    UpdateExpression: 'REMOVE deletedDate, scheduledPurgeDate SET gsi1pk = :g',
    ConditionExpression: 'attribute_exists(deletedDate) AND attribute_not_exists(purging)',
    ExpressionAttributeValues: { ':g': { S: liveCollection(vault, collection) } },
  };
}

/**
 * One conditional update of a head, in a transaction with the change's audit
 * record when there is one; the head after it, or undefined when the condition failed.
 */
export async function updateHead(
  t: SecretTable,
  vault: string,
  name: string,
  audit: AuditEntry | undefined,
  update: HeadUpdate,
): Promise<SecretHead | undefined> {
  if (audit && t.auditTable) {
    const change = {
      Update: { TableName: t.tableName, Key: key(secretPk(vault, name, t.collection), HEAD_SK), ...update },
    };
    try {
      await t.client.send(
        new TransactWriteItemsCommand({
          TransactItems: withAudit(t, [change], audit, `${t.collection}/${name}`),
        }),
      );
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return undefined;
      translateDynamoError(error);
    }
    audit.committed();
    return getHead(t, vault, name);
  }
  try {
    const out = await t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: key(secretPk(vault, name, t.collection), HEAD_SK),
        ReturnValues: 'ALL_NEW',
        ...update,
      }),
    );
    return headFromItem(out.Attributes as Item);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    translateDynamoError(error);
  }
}
