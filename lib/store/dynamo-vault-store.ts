import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import type { Page, PageRequest } from '../secrets/model.ts';
import { VAULT_NAME_PATTERN, type Vault } from '../vaults/model.ts';
import { type AuditTable, auditPut } from './audit-items.ts';
import { cancellationReasons, isConditionFailure, translateDynamoError } from './dynamo-errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import type { Item } from './secret-items.ts';
import { collectionIndex } from './table-schema.ts';
import type { VaultStore } from './vault-store.ts';

const VAULT_SK = '#vault';
const vaultPk = (name: string) => `#vault/${name.toLowerCase()}`;
const collection = (deleted: boolean) => (deleted ? '#deletedvaults' : '#vaults');
/** Every collection an object of a vault lives in (heads are indexed by these). */
const OBJECT_COLLECTIONS = [
  'secrets',
  'deletedsecrets',
  'keys',
  'deletedkeys',
  'certificates',
  'deletedcertificates',
];

/**
 * VaultStore on the one table. A vault's properties, access policies and role
 * assignments are one item (gzip'd JSON: 1,024 policies fit well within
 * DynamoDB's 400 KB), so authorizing a request is one read.
 */
export class DynamoVaultStore implements VaultStore {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    /** Where a change's audit record goes, in the change's own transaction. */
    private readonly auditTable?: AuditTable,
  ) {}

  async get(name: string): Promise<Vault | undefined> {
    const out = await this.call(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: vaultPk(name) }, sk: { S: VAULT_SK } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item && fromItem(out.Item);
  }

  async create(vault: Vault, audit?: AuditEntry): Promise<void> {
    try {
      await this.put(
        { TableName: this.tableName, Item: toItem(vault), ConditionExpression: 'attribute_not_exists(pk)' },
        audit,
        vault.name,
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `A vault named ${vault.name} already exists (or is soft-deleted); vault names are unique.`,
        );
      }
      translateDynamoError(error);
    }
  }

  async replace(vault: Vault, audit?: AuditEntry): Promise<Vault> {
    const next = { ...vault, revision: vault.revision + 1 };
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: toItem(next),
          ConditionExpression: 'revision = :r',
          ExpressionAttributeValues: { ':r': { N: `${vault.revision}` } },
        },
        audit,
        vault.name,
      );
      return next;
    } catch (error) {
      if (isConditionFailure(error))
        throw new ConflictError(`Vault ${vault.name} was changed concurrently; retry.`);
      translateDynamoError(error);
    }
  }

  async list(deleted: boolean, page: PageRequest): Promise<Page<Vault>> {
    const start = page.token && decodePageToken(page.token, 'v', VAULT_NAME_PATTERN);
    const gsi1pk = collection(deleted);
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: collectionIndex.indexName,
          KeyConditionExpression: 'gsi1pk = :c',
          ExpressionAttributeValues: { ':c': { S: gsi1pk } },
          Limit: page.maxResults + 1,
          ...(start && {
            ExclusiveStartKey: {
              pk: { S: vaultPk(start) },
              sk: { S: VAULT_SK },
              gsi1pk: { S: gsi1pk },
              gsi1sk: { S: start.toLowerCase() },
            },
          }),
        }),
      ),
    );
    const vaults = (out.Items ?? []).map(fromItem);
    if (vaults.length <= page.maxResults) return { items: vaults };
    const kept = vaults.slice(0, page.maxResults);
    return { items: kept, nextToken: encodePageToken({ v: kept[kept.length - 1]?.name as string }) };
  }

  async purge(name: string, audit?: AuditEntry): Promise<void> {
    const vault = name.toLowerCase();
    if (audit && this.auditTable) {
      // The purge's record lands with its first change: marking the vault.
      await this.call(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: { pk: { S: vaultPk(vault) }, sk: { S: VAULT_SK } },
                  UpdateExpression: 'SET purging = :t',
                  ExpressionAttributeValues: { ':t': { BOOL: true } },
                },
              },
              auditPut(this.auditTable as AuditTable, audit.record(`vaults/${vault}`)),
            ],
          }),
        ),
      );
      audit.committed();
    }
    for (const kind of OBJECT_COLLECTIONS) {
      const heads = await this.queryAll({
        IndexName: collectionIndex.indexName,
        KeyConditionExpression: 'gsi1pk = :c',
        ExpressionAttributeValues: { ':c': { S: `${vault}/${kind}` } },
        ProjectionExpression: 'pk',
      });
      for (const head of heads) {
        const items = await this.queryAll({
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': head.pk as never },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        });
        await this.deleteAll(items);
      }
    }
    await this.deleteAll([{ pk: { S: vaultPk(vault) }, sk: { S: VAULT_SK } }]);
  }

  /** One conditional Put, in a transaction with the change's audit record when there is one. */
  private async put(put: PutItemCommandInput, audit: AuditEntry | undefined, name: string): Promise<void> {
    if (!audit || !this.auditTable) {
      await this.client.send(new PutItemCommand(put));
      return;
    }
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: put as TransactWriteItem['Put'] },
            auditPut(this.auditTable, audit.record(`vaults/${name}`)),
          ],
        }),
      );
    } catch (error) {
      // Report a failed condition as PutItem would, so callers handle both paths alike.
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') {
        throw Object.assign(new Error('condition failed'), { name: 'ConditionalCheckFailedException' });
      }
      throw error;
    }
    audit.committed();
  }

  private async deleteAll(keys: Item[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let pending = keys.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 8) throw new ConflictError('Purge did not finish; retry the purge.');
        const out = await this.call(() =>
          this.client.send(
            new BatchWriteItemCommand({
              RequestItems: {
                [this.tableName]: pending.map((k) => ({
                  DeleteRequest: { Key: { pk: k.pk, sk: k.sk } as Item },
                })),
              },
            }),
          ),
        );
        pending = (out.UnprocessedItems?.[this.tableName] ?? []).map((r) => r.DeleteRequest?.Key as Item);
      }
    }
  }

  private async queryAll(query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
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

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      translateDynamoError(error);
    }
  }
}

function toItem(vault: Vault): Item {
  const { name, revision, ...doc } = vault;
  return {
    pk: { S: vaultPk(name) },
    sk: { S: VAULT_SK },
    gsi1pk: { S: collection(Boolean(vault.deletion)) },
    gsi1sk: { S: name.toLowerCase() },
    revision: { N: `${revision}` },
    vaultDoc: { B: gzipSync(JSON.stringify(doc)) },
  };
}

function fromItem(item: Item): Vault {
  const doc = JSON.parse(gunzipSync(item.vaultDoc?.B as Uint8Array).toString('utf8'));
  return { ...doc, name: item.gsi1sk?.S ?? '', revision: Number(item.revision?.N ?? 0) };
}
