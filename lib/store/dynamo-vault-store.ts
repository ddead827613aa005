import {
  PutItemCommand,
  type PutItemCommandInput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import type { Page, PageRequest } from '../secrets/model.ts';
import { VAULT_NAME_PATTERN, type Vault } from '../vaults/model.ts';
import { type AuditTable, auditPut } from './audit-items.ts';
import { call, type DynamoClient, deleteAll, getItem, queryAll, queryCollection } from './dynamo-calls.ts';
import { cancellationReasons, isConditionFailure, translateDynamoError } from './dynamo-errors.ts';
import { decodePageToken, pageOf } from './page-token.ts';
import { collectionIndex } from './table-schema.ts';
import { VAULT_SK, vaultCollection, vaultFromItem, vaultKey, vaultPk, vaultToItem } from './vault-items.ts';
import type { VaultStore } from './vault-store.ts';

const PURGE_UNFINISHED = 'Purge did not finish; retry the purge.';
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
    private readonly client: DynamoClient,
    private readonly tableName: string,
    /** Where a change's audit record goes, in the change's own transaction. */
    private readonly auditTable?: AuditTable,
  ) {}

  async get(name: string): Promise<Vault | undefined> {
    const item = await getItem(this.client, this.tableName, vaultKey(name));
    return item && vaultFromItem(item);
  }

  async create(vault: Vault, audit?: AuditEntry): Promise<void> {
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: vaultToItem(vault),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
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
          Item: vaultToItem(next),
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
    const after = start ? { pk: vaultPk(start), sk: VAULT_SK, name: start } : undefined;
    const items = await queryCollection(
      this.client,
      this.tableName,
      vaultCollection(deleted),
      page.maxResults + 1,
      after,
    );
    return pageOf(items.map(vaultFromItem), page.maxResults, (last) => ({ v: last.name }));
  }

  async purge(name: string, audit?: AuditEntry): Promise<void> {
    const vault = name.toLowerCase();
    if (audit && this.auditTable) {
      // The purge's record lands with its first change: marking the vault.
      await call(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: vaultKey(vault),
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
      const heads = await queryAll(this.client, this.tableName, {
        IndexName: collectionIndex.indexName,
        KeyConditionExpression: 'gsi1pk = :c',
        ExpressionAttributeValues: { ':c': { S: `${vault}/${kind}` } },
        ProjectionExpression: 'pk',
      });
      for (const head of heads) {
        const items = await queryAll(this.client, this.tableName, {
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': head.pk as never },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        });
        await deleteAll(this.client, this.tableName, items, PURGE_UNFINISHED);
      }
    }
    await deleteAll(this.client, this.tableName, [vaultKey(vault)], PURGE_UNFINISHED);
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
}
