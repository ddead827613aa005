import { BatchGetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  type Deletion,
  type Page,
  type PageRequest,
  SECRET_NAME_PATTERN,
  SECRET_VERSION_PATTERN,
  type SecretHead,
  type SecretSummary,
  type SecretVersion,
} from '../secrets/model.ts';
import { call, queryAll, queryCollection } from './dynamo-calls.ts';
import { getHeadItem, key, type SecretTable, versionSk } from './dynamo-secret-table.ts';
import { decodePageToken, pageOf } from './page-token.ts';
import {
  deletionFromItem,
  headFromItem,
  secretPk,
  summaryFromHead,
  summaryFromVersion,
  versionFromItem,
} from './secret-items.ts';
import { HEAD_SK, VERSION_SK_PREFIX } from './table-schema.ts';

/** The read paths of DynamoSecretStore: every read is consistent, and lists page by name or version. */

export async function getHead(t: SecretTable, vault: string, name: string): Promise<SecretHead | undefined> {
  const item = await getHeadItem(t, vault, name);
  return item ? headFromItem(item) : undefined;
}

/** One version and its secret's deletion state, in one round trip (head and version together). */
export async function getVersion(
  t: SecretTable,
  vault: string,
  name: string,
  version: string,
): Promise<{ version: SecretVersion; deletion?: Deletion } | undefined> {
  const pk = secretPk(vault, name, t.collection);
  const out = await call(() =>
    t.client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [t.tableName]: { Keys: [key(pk, HEAD_SK), key(pk, versionSk(version))], ConsistentRead: true },
        },
      }),
    ),
  );
  const items = out.Responses?.[t.tableName] ?? [];
  const head = items.find((i) => i.sk?.S === HEAD_SK);
  const found = items.find((i) => i.sk?.S !== HEAD_SK);
  if (!head || !found) return undefined;
  const deletion = deletionFromItem(head);
  return { version: versionFromItem(found), ...(deletion && { deletion }) };
}

/** One page of the heads in a collection (live or deleted secrets of one vault). */
export async function listCollection(
  t: SecretTable,
  collection: string,
  page: PageRequest,
): Promise<Page<SecretSummary>> {
  const start = page.token && decodePageToken(page.token, 'n', SECRET_NAME_PATTERN);
  const vault = collection.slice(0, collection.indexOf('/'));
  const after = start ? { pk: secretPk(vault, start, t.collection), sk: HEAD_SK, name: start } : undefined;
  const items = await queryCollection(t.client, t.tableName, collection, page.maxResults + 1, after);
  return pageOf(items.map(summaryFromHead), page.maxResults, (last) => ({ n: last.name }));
}

export async function listVersions(
  t: SecretTable,
  vault: string,
  name: string,
  page: PageRequest,
): Promise<Page<SecretSummary> | undefined> {
  const head = await getHeadItem(t, vault, name);
  if (!head || deletionFromItem(head)) return undefined;
  const pk = secretPk(vault, name, t.collection);
  const start = page.token && decodePageToken(page.token, 'v', SECRET_VERSION_PATTERN);
  const out = await call(() =>
    t.client.send(
      new QueryCommand({
        TableName: t.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':v': { S: VERSION_SK_PREFIX } },
        ProjectionExpression: 'displayName, version, attrs, tags, contentType, managed, kid',
        Limit: page.maxResults + 1,
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: key(pk, versionSk(start)) }),
      }),
    ),
  );
  const items = (out.Items ?? []).map(summaryFromVersion);
  return pageOf(items, page.maxResults, (last) => ({ v: last.version }));
}

/** Every version of a live secret (for backup); undefined when unknown or deleted. */
export async function allVersions(
  t: SecretTable,
  vault: string,
  name: string,
): Promise<SecretVersion[] | undefined> {
  const items = await queryAll(t.client, t.tableName, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: secretPk(vault, name, t.collection) } },
    ConsistentRead: true,
  });
  const head = items.find((i) => i.sk?.S === HEAD_SK);
  if (!head || deletionFromItem(head)) return undefined;
  return items.filter((i) => i.sk?.S?.startsWith(VERSION_SK_PREFIX)).map(versionFromItem);
}
