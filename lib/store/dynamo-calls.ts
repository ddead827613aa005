import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../errors.ts';
import { translateDynamoError } from './dynamo-errors.ts';
import type { Item } from './secret-items.ts';
import { collectionIndex } from './table-schema.ts';

/** The part of the SDK client the adapters use (tests hand in a client of their own). */
export type DynamoClient = Pick<DynamoDBClient, 'send'>;

/** BatchWriteItem takes at most 25 requests a call. */
const MAX_BATCH_WRITE = 25;
/** Calls made for one batch before its unprocessed deletes count as a failed purge. */
const MAX_BATCH_ATTEMPTS = 8;

/** Runs one SDK call, translating failures that are not the caller's. */
export async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    translateDynamoError(error);
  }
}

/** One item by key, read consistently; undefined when there is none. */
export async function getItem(client: DynamoClient, tableName: string, key: Item): Promise<Item | undefined> {
  const out = await call(() =>
    client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
  );
  return out.Item;
}

/** Every item a query selects, following LastEvaluatedKey. */
export async function queryAll(
  client: DynamoClient,
  tableName: string,
  query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await call(() =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          ...query,
          ...(start && { ExclusiveStartKey: start }),
        }),
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Up to `limit` items of one collection of the byCollection index, in name
 * order, starting after the item `after` names (a page token's position).
 */
export async function queryCollection(
  client: DynamoClient,
  tableName: string,
  collection: string,
  limit: number,
  after?: { pk: string; sk: string; name: string },
): Promise<Item[]> {
  const out = await call(() =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: collectionIndex.indexName,
        KeyConditionExpression: 'gsi1pk = :c',
        ExpressionAttributeValues: { ':c': { S: collection } },
        Limit: limit,
        ...(after && {
          ExclusiveStartKey: {
            pk: { S: after.pk },
            sk: { S: after.sk },
            gsi1pk: { S: collection },
            gsi1sk: { S: after.name.toLowerCase() },
          },
        }),
      }),
    ),
  );
  return out.Items ?? [];
}

/**
 * Deletes every key (its pk and sk) in batches, retrying what DynamoDB leaves
 * unprocessed; ConflictError(unfinished) when a batch still has some left.
 */
export async function deleteAll(
  client: DynamoClient,
  tableName: string,
  keys: readonly Item[],
  unfinished: string,
): Promise<void> {
  for (const batch of chunks(keys, MAX_BATCH_WRITE)) {
    let pending: Item[] = batch;
    for (let attempt = 0; pending.length > 0 && attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      const out = await call(() =>
        client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [tableName]: pending.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } as Item } })),
            },
          }),
        ),
      );
      pending = (out.UnprocessedItems?.[tableName] ?? []).map((r) => r.DeleteRequest?.Key as Item);
    }
    if (pending.length > 0) throw new ConflictError(unfinished);
  }
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
