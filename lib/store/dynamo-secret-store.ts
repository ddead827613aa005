import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import {
  type Deletion,
  type Page,
  type PageRequest,
  SECRET_NAME_PATTERN,
  SECRET_VERSION_PATTERN,
  type SecretHead,
  type SecretSummary,
  type SecretUpdate,
  type SecretVersion,
} from '../secrets/model.ts';
import { type AuditTable, auditPut } from './audit-items.ts';
import { cancellationReasons, isConditionFailure, translateDynamoError } from './dynamo-errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import {
  attributesToItem,
  deletedCollection,
  deletionFromItem,
  expiryKeys,
  type Item,
  latestFromHead,
  liveCollection,
  secretPk,
  summaryFromHead,
  summaryFromVersion,
  tagsToItem,
  versionFields,
  versionFromItem,
} from './secret-items.ts';
import type { SecretStore } from './secret-store.ts';
import { collectionIndex, HEAD_SK, VERSION_SK_PREFIX } from './table-schema.ts';

const key = (pk: string, sk: string): Item => ({ pk: { S: pk }, sk: { S: sk } });
const versionSk = (version: string) => `${VERSION_SK_PREFIX}${version.toLowerCase()}`;
const MAX_TRANSACTION_ITEMS = 100;

export function softDeletedConflict(name: string): ConflictError {
  return new ConflictError(
    `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; ` +
      'in this state, the secret can only be recovered or purged.',
  );
}

/** SecretStore over one DynamoDB table (lib/store/table-schema.ts). */
export class DynamoSecretStore implements SecretStore {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    /** Where a change's audit record goes, in the change's own transaction. */
    private readonly auditTable?: AuditTable,
  ) {}

  async putVersion(vault: string, v: SecretVersion, audit?: AuditEntry): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: this.withAudit(
            [this.putVersionItem(vault, v), this.upsertHead(vault, v)],
            audit,
            `secrets/${v.name}/${v.version}`,
          ),
        }),
      );
    } catch (error) {
      if (cancellationReasons(error)?.[1] === 'ConditionalCheckFailed') throw softDeletedConflict(v.name);
      translateDynamoError(error);
    }
    audit?.committed();
  }

  async getHead(vault: string, name: string): Promise<SecretHead | undefined> {
    const item = await this.getItem(secretPk(vault, name), HEAD_SK);
    if (!item) return undefined;
    const deletion = deletionFromItem(item);
    return { latest: latestFromHead(item), ...(deletion && { deletion }) };
  }

  async getVersion(vault: string, name: string, version: string) {
    const pk = secretPk(vault, name);
    const out = await this.call(() =>
      this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: { Keys: [key(pk, HEAD_SK), key(pk, versionSk(version))], ConsistentRead: true },
          },
        }),
      ),
    );
    const items = out.Responses?.[this.tableName] ?? [];
    const head = items.find((i) => i.sk?.S === HEAD_SK);
    const found = items.find((i) => i.sk?.S !== HEAD_SK);
    if (!head || !found) return undefined;
    const deletion = deletionFromItem(head);
    return { version: versionFromItem(found), ...(deletion && { deletion }) };
  }

  async updateVersion(
    vault: string,
    name: string,
    version: string,
    update: SecretUpdate,
    now: number,
    audit?: AuditEntry,
  ) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.getVersion(vault, name, version);
      if (!current || current.deletion) return undefined;
      const head = await this.getItem(secretPk(vault, name), HEAD_SK);
      const isLatest = head?.latestVersion?.S === current.version.version;
      const next = applyUpdate(current.version, update, now);
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: this.withAudit(
              [
                this.rewriteFields(vault, next, versionSk(next.version), 'attribute_exists(pk)'),
                this.guardHead(vault, next, isLatest),
              ],
              audit,
              `secrets/${next.name}/${next.version}`,
            ),
          }),
        );
        audit?.committed();
        return next;
      } catch (error) {
        // A concurrent set changed which version is latest, or a delete happened: look again.
        if (!cancellationReasons(error)?.includes('ConditionalCheckFailed')) translateDynamoError(error);
      }
    }
    throw new ConflictError(`Secret ${name} is being changed concurrently; retry.`);
  }

  listSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>> {
    return this.listCollection(liveCollection(vault), page);
  }

  listDeletedSecrets(vault: string, page: PageRequest): Promise<Page<SecretSummary>> {
    return this.listCollection(deletedCollection(vault), page);
  }

  async listVersions(vault: string, name: string, page: PageRequest) {
    const head = await this.getItem(secretPk(vault, name), HEAD_SK);
    if (!head || deletionFromItem(head)) return undefined;
    const pk = secretPk(vault, name);
    const start = page.token && decodePageToken(page.token, 'v', SECRET_VERSION_PATTERN);
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
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

  async softDelete(vault: string, name: string, deletion: Deletion, audit?: AuditEntry) {
    return this.updateHead(vault, name, audit, {
      UpdateExpression: 'SET deletedDate = :d, scheduledPurgeDate = :p, gsi1pk = :g',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedDate)',
      ExpressionAttributeValues: {
        ':d': { N: `${deletion.deletedDate}` },
        ':p': { N: `${deletion.scheduledPurgeDate}` },
        ':g': { S: deletedCollection(vault) },
      },
    });
  }

  async recover(vault: string, name: string, audit?: AuditEntry) {
    return this.updateHead(vault, name, audit, {
      UpdateExpression: 'REMOVE deletedDate, scheduledPurgeDate SET gsi1pk = :g',
      ConditionExpression: 'attribute_exists(deletedDate) AND attribute_not_exists(purging)',
      ExpressionAttributeValues: { ':g': { S: liveCollection(vault) } },
    });
  }

  async purge(vault: string, name: string, audit?: AuditEntry): Promise<boolean> {
    // Mark first (with the audit record), so a purge cut short is finished by the next purge and never
    // recovered half-empty.
    const marked = await this.updateHead(vault, name, audit, {
      UpdateExpression: 'SET purging = :t',
      ConditionExpression: 'attribute_exists(deletedDate)',
      ExpressionAttributeValues: { ':t': { BOOL: true } },
    });
    if (!marked) return false;
    const pk = secretPk(vault, name);
    for (const batch of chunks(await this.versionKeys(pk), 25)) {
      let pending: Item[] = batch;
      for (let attempt = 0; pending.length > 0 && attempt < 8; attempt++) {
        const out = await this.call(() =>
          this.client.send(
            new BatchWriteItemCommand({
              RequestItems: { [this.tableName]: pending.map((k) => ({ DeleteRequest: { Key: k } })) },
            }),
          ),
        );
        pending = (out.UnprocessedItems?.[this.tableName] ?? []).map((r) => r.DeleteRequest?.Key as Item);
      }
      if (pending.length > 0) throw new ConflictError(`Purge of ${name} did not finish; retry the purge.`);
    }
    await this.call(() =>
      this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Delete: { TableName: this.tableName, Key: key(pk, HEAD_SK) } }],
        }),
      ),
    );
    return true;
  }

  async allVersions(vault: string, name: string): Promise<SecretVersion[] | undefined> {
    const pk = secretPk(vault, name);
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
    });
    const head = items.find((i) => i.sk?.S === HEAD_SK);
    if (!head || deletionFromItem(head)) return undefined;
    return items.filter((i) => i.sk?.S !== HEAD_SK).map(versionFromItem);
  }

  async restore(
    vault: string,
    versions: readonly SecretVersion[],
    latestVersion: string,
    audit?: AuditEntry,
  ): Promise<void> {
    const latest = versions.find((v) => v.version === latestVersion);
    if (!latest) throw new Error('restore needs its latest version among the versions');
    const name = latest.name;
    if (await this.getItem(secretPk(vault, name), HEAD_SK)) throw restoreConflict(name);
    const items = versions.map((v) => this.putVersionItem(vault, v));
    // The head goes in the last transaction: until it lands, the restored versions are invisible.
    const groups = chunks(items, MAX_TRANSACTION_ITEMS - 2);
    try {
      for (const [i, group] of groups.entries()) {
        const last = i === groups.length - 1;
        const transactItems = last
          ? this.withAudit(
              [...group, this.createHead(vault, latest)],
              audit,
              `secrets/${name}/${latest.version}`,
            )
          : group;
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: transactItems }));
      }
    } catch (error) {
      if (cancellationReasons(error)?.includes('ConditionalCheckFailed')) throw restoreConflict(name);
      translateDynamoError(error);
    }
    audit?.committed();
  }

  /** A change's items plus its audit record: the record is stored exactly when the change is. */
  private withAudit(items: TransactWriteItem[], audit: AuditEntry | undefined, objectPath: string) {
    if (!audit || !this.auditTable) return items;
    return [...items, auditPut(this.auditTable, audit.record(objectPath))];
  }

  private async listCollection(collection: string, page: PageRequest): Promise<Page<SecretSummary>> {
    const start = page.token && decodePageToken(page.token, 'n', SECRET_NAME_PATTERN);
    const vault = collection.slice(0, collection.indexOf('/'));
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: collectionIndex.indexName,
          KeyConditionExpression: 'gsi1pk = :c',
          ExpressionAttributeValues: { ':c': { S: collection } },
          Limit: page.maxResults + 1,
          ...(start && {
            ExclusiveStartKey: {
              ...key(secretPk(vault, start), HEAD_SK),
              gsi1pk: { S: collection },
              gsi1sk: { S: start.toLowerCase() },
            },
          }),
        }),
      ),
    );
    const items = (out.Items ?? []).map(summaryFromHead);
    return pageOf(items, page.maxResults, (last) => ({ n: last.name }));
  }

  private putVersionItem(vault: string, v: SecretVersion): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...key(secretPk(vault, v.name), versionSk(v.version)),
          version: { S: v.version },
          ...versionFields(v),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Makes v the latest, keeping the first-created spelling of the name; refused while soft-deleted. */
  private upsertHead(vault: string, v: SecretVersion): TransactWriteItem {
    const fields = versionFields(v);
    const sets = [
      'displayName = if_not_exists(displayName, :displayName)',
      'latestVersion = :latestVersion',
      'gsi1pk = :gsi1pk',
      'gsi1sk = :gsi1sk',
    ];
    const removes: string[] = [];
    const values: Item = {
      ':displayName': fields.displayName as never,
      ':latestVersion': { S: v.version },
      ':gsi1pk': { S: liveCollection(vault) },
      ':gsi1sk': { S: v.name.toLowerCase() },
    };
    const expiry = expiryKeys(secretPk(vault, v.name), v.attributes.exp);
    for (const field of [
      'attrs',
      'sealed',
      'contentType',
      'tags',
      'managed',
      'kid',
      'expBucket',
      'expSort',
    ]) {
      const value = fields[field] ?? expiry[field];
      if (value) {
        sets.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      } else {
        removes.push(field);
      }
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: key(secretPk(vault, v.name), HEAD_SK),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_not_exists(deletedDate)',
        ExpressionAttributeValues: values,
      },
    };
  }

  private createHead(vault: string, latest: SecretVersion): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...key(secretPk(vault, latest.name), HEAD_SK),
          latestVersion: { S: latest.version },
          ...expiryKeys(secretPk(vault, latest.name), latest.attributes.exp),
          gsi1pk: { S: liveCollection(vault) },
          gsi1sk: { S: latest.name.toLowerCase() },
          ...versionFields(latest),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Rewrites the mutable fields of a version item, or of the head's copy of the latest version. */
  private rewriteFields(
    vault: string,
    v: SecretVersion,
    sk: string,
    condition: string,
    conditionValues: Item = {},
  ): TransactWriteItem {
    const values: Item = { ':attrs': attributesToItem(v.attributes), ...conditionValues };
    const sets = ['attrs = :attrs'];
    const removes: string[] = [];
    if (v.contentType !== undefined) {
      sets.push('contentType = :ct');
      values[':ct'] = { S: v.contentType };
    } else removes.push('contentType');
    if (v.tags !== undefined) {
      sets.push('tags = :tags');
      values[':tags'] = tagsToItem(v.tags);
    } else removes.push('tags');
    if (sk === HEAD_SK) {
      // The head's copy of the latest version keeps the expiry index in step with its exp.
      const expiry = expiryKeys(secretPk(vault, v.name), v.attributes.exp);
      if (expiry.expBucket && expiry.expSort) {
        sets.push('expBucket = :expBucket', 'expSort = :expSort');
        values[':expBucket'] = expiry.expBucket;
        values[':expSort'] = expiry.expSort;
      } else removes.push('expBucket', 'expSort');
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: key(secretPk(vault, v.name), sk),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** When the version is the latest, the head's copy changes with it; otherwise the head must not move under us. */
  private guardHead(vault: string, v: SecretVersion, isLatest: boolean): TransactWriteItem {
    const condition = `attribute_not_exists(deletedDate) AND latestVersion ${isLatest ? '=' : '<>'} :v`;
    const values: Item = { ':v': { S: v.version } };
    if (isLatest) return this.rewriteFields(vault, v, HEAD_SK, condition, values);
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: key(secretPk(vault, v.name), HEAD_SK),
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
      },
    };
  }

  private async updateHead(
    vault: string,
    name: string,
    audit: AuditEntry | undefined,
    update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Item },
  ): Promise<SecretHead | undefined> {
    if (audit && this.auditTable) {
      const change = {
        Update: { TableName: this.tableName, Key: key(secretPk(vault, name), HEAD_SK), ...update },
      };
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: this.withAudit([change], audit, `secrets/${name}`),
          }),
        );
      } catch (error) {
        if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return undefined;
        translateDynamoError(error);
      }
      audit.committed();
      return this.getHead(vault, name);
    }
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(secretPk(vault, name), HEAD_SK),
          ReturnValues: 'ALL_NEW',
          ...update,
        }),
      );
      const item = out.Attributes as Item;
      const deletion = deletionFromItem(item);
      return { latest: latestFromHead(item), ...(deletion && { deletion }) };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      translateDynamoError(error);
    }
  }

  private versionKeys(pk: string): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':v': { S: VERSION_SK_PREFIX } },
      ProjectionExpression: 'pk, sk',
    });
  }

  /** Every item a key condition selects, following LastEvaluatedKey, read consistently. */
  private async queryAll(
    query: Pick<
      QueryCommandInput,
      'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ProjectionExpression'
    >,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            ConsistentRead: true,
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

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.call(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(pk, sk), ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  /** Runs one SDK call, translating failures that are not the caller's. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      translateDynamoError(error);
    }
  }
}

function restoreConflict(name: string): ConflictError {
  return new ConflictError(
    `Secret ${name} already exists in this vault (live or deleted); a backup restores only onto a free name.`,
  );
}

function applyUpdate(v: SecretVersion, update: SecretUpdate, now: number): SecretVersion {
  const a = update.attributes ?? {};
  const { nbf: _nbf, exp: _exp, ...rest } = v.attributes;
  const nbf = a.nbf === undefined ? v.attributes.nbf : (a.nbf ?? undefined);
  const exp = a.exp === undefined ? v.attributes.exp : (a.exp ?? undefined);
  return {
    ...v,
    attributes: {
      ...rest,
      enabled: a.enabled ?? v.attributes.enabled,
      ...(nbf !== undefined && { nbf }),
      ...(exp !== undefined && { exp }),
      updated: now,
    },
    ...(update.contentType !== undefined && { contentType: update.contentType }),
    ...(update.tags !== undefined && { tags: update.tags }),
  };
}

function pageOf<T>(items: T[], max: number, position: (last: T) => Record<string, string>): Page<T> {
  if (items.length <= max) return { items };
  const kept = items.slice(0, max);
  return { items: kept, nextToken: encodePageToken(position(kept[kept.length - 1] as T)) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
