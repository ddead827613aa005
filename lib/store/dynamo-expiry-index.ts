import { BatchGetItemCommand, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ExpiringHead } from '../events/expiry-sweep.ts';
import { call, type DynamoClient, queryAll } from './dynamo-calls.ts';
import { isConditionFailure, translateDynamoError } from './dynamo-errors.ts';
import type { Item } from './secret-items.ts';
import { expiryIndex } from './table-schema.ts';

const NOTIFIED_SK = '#notified';
const notifiedKey = (eventKey: string): Item => ({
  pk: { S: `#notified/${eventKey}` },
  sk: { S: NOTIFIED_SK },
});
/** BatchGetItem reads at most 100 keys a call. */
const MAX_BATCH_GET = 100;

/**
 * The expiry sweep's view of the main table: heads by expiry time (the
 * byExpiry index, one query per month bucket, never a scan), and one marker
 * item per event sent (`#notified/{eventKey}`, `#notified`; kept, no TTL:
 * a few hundred bytes per expiring version).
 */
export class DynamoExpiryIndex {
  constructor(
    private readonly client: DynamoClient,
    private readonly tableName: string,
  ) {}

  async queryExpiring(fromIso: string, toIso: string): Promise<ExpiringHead[]> {
    const heads: ExpiringHead[] = [];
    for (const bucket of monthBuckets(fromIso, toIso)) {
      const items = await queryAll(this.client, this.tableName, {
        IndexName: expiryIndex.indexName,
        KeyConditionExpression: '#b = :b AND #s BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#b': expiryIndex.partitionKey, '#s': expiryIndex.sortKey },
        // expSort is `{expiry ISO}#{pk}`: '~' sorts after '#', so `to` itself is included.
        ExpressionAttributeValues: {
          ':b': { S: bucket },
          ':from': { S: fromIso },
          ':to': { S: `${toIso}~` },
        },
      });
      for (const item of items) {
        const head = headFromItem(item);
        if (head) heads.push(head);
      }
    }
    return heads;
  }

  async notifiedAmong(eventKeys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < eventKeys.length; i += MAX_BATCH_GET) {
      let keys: Item[] = [...new Set(eventKeys.slice(i, i + MAX_BATCH_GET))].map(notifiedKey);
      // Keys left unprocessed (throttling) are simply treated as not yet marked: the conditional write decides.
      for (let attempt = 0; keys.length > 0 && attempt < 3; attempt++) {
        const out = await call(() =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'pk' } },
            }),
          ),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const pk = item.pk?.S;
          if (pk) found.add(pk.slice('#notified/'.length));
        }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return found;
  }

  async markNotified(eventKey: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...notifiedKey(eventKey), notifiedAt: { N: `${Math.floor(Date.now() / 1000)}` } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      translateDynamoError(error);
    }
  }

  async forgetNotified(eventKey: string): Promise<void> {
    await call(() =>
      this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: notifiedKey(eventKey) })),
    );
  }
}

/** `exp#{yyyy-mm}` for every month from fromIso's to toIso's. */
export function monthBuckets(fromIso: string, toIso: string): string[] {
  const buckets: string[] = [];
  const to = toIso.slice(0, 7);
  let year = Number(fromIso.slice(0, 4));
  let month = Number(fromIso.slice(5, 7));
  for (;;) {
    const bucket = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (bucket > to) break;
    buckets.push(`exp#${bucket}`);
    month = month === 12 ? 1 : month + 1;
    if (month === 1) year++;
  }
  return buckets;
}

function headFromItem(item: Item): ExpiringHead | undefined {
  const attrs = item.attrs?.M;
  const exp = attrs?.exp?.N;
  const pk = item.pk?.S;
  if (!pk || exp === undefined) return undefined;
  const tags = item.tags?.M
    ? Object.fromEntries(Object.entries(item.tags.M).map(([k, v]) => [k, v.S ?? '']))
    : undefined;
  return {
    pk,
    ...(item.displayName?.S !== undefined && { displayName: item.displayName.S }),
    latestVersion: item.latestVersion?.S ?? '',
    enabled: attrs?.enabled?.BOOL ?? true,
    exp: Number(exp),
    ...(attrs?.nbf?.N !== undefined && { nbf: Number(attrs.nbf.N) }),
    ...(tags && { tags }),
    deleted: item.deletedDate?.N !== undefined,
  };
}
