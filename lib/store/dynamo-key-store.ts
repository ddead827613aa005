import { BatchGetItemCommand, QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersion } from '../secrets/model.ts';
import type { AuditTable } from './audit-items.ts';
import { call, chunks, type DynamoClient, getItem, queryAll } from './dynamo-calls.ts';
import { cancellationReasons, translateDynamoError } from './dynamo-errors.ts';
import { DynamoSecretStore } from './dynamo-secret-store.ts';
import { key, withAudit } from './dynamo-secret-table.ts';
import { putVersionItem, upsertHead } from './dynamo-secret-transact-items.ts';
import {
  type KeyStore,
  type RotationPolicyRef,
  RotationSupersededError,
  type StoredRotationPolicy,
} from './key-store.ts';
import { type Item, secretPk, versionFromItem } from './secret-items.ts';
import { collectionIndex, HEAD_SK, VERSION_SK_PREFIX } from './table-schema.ts';

/** The sort key of a key's rotation policy, beside its head and versions. */
export const ROTATION_POLICY_SK = '#rotationpolicy';
/** Every stored rotation policy is listed under this index partition, for the rotation sweep. */
export const ROTATION_POLICIES_COLLECTION = '#rotationpolicies';
/**
 * What the expiry sweep may read of a policy item (its role is held to these
 * attributes: infra/constructs/key-rotation.ts): never a key's sealed part.
 */
export const POLICY_NOTICE_ATTRIBUTES = ['pk', 'sk', 'policy'] as const;
/** How often a rotation cancelled only by a concurrent transaction is tried. */
const CONFLICT_ATTEMPTS = 5;

/** BatchGetItem reads at most 100 keys a call. */
const MAX_BATCH_GET = 100;
const POLICY_PAGE = 100;

/**
 * Keys: the secrets' item layout and code under the `keys` collection (a
 * version's public facts ride in `facts`, its private part or HSM handle in
 * `sealed`), plus the rotation policy item of each key.
 */
export class DynamoKeyStore extends DynamoSecretStore implements KeyStore {
  constructor(client: DynamoClient, tableName: string, auditTable?: AuditTable) {
    super(client, tableName, auditTable, 'keys');
  }

  async versionsOf(vault: string, name: string): Promise<SecretVersion[]> {
    const items = await queryAll(this.table.client, this.table.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: {
        ':pk': { S: secretPk(vault, name, 'keys') },
        ':v': { S: VERSION_SK_PREFIX },
      },
      ConsistentRead: true,
    });
    return items.map(versionFromItem);
  }

  async getRotationPolicy(vault: string, name: string): Promise<StoredRotationPolicy | undefined> {
    const item = await getItem(
      this.table.client,
      this.table.tableName,
      key(secretPk(vault, name, 'keys'), ROTATION_POLICY_SK),
    );
    if (!item?.policy?.S) return undefined;
    return {
      policy: item.policy.S,
      created: Number(item.created?.N ?? 0),
      updated: Number(item.updated?.N ?? 0),
      ...(item.rotatedFrom?.S !== undefined && { rotatedFrom: item.rotatedFrom.S }),
      ...(item.rotatedAt?.N !== undefined && { rotatedAt: Number(item.rotatedAt.N) }),
    };
  }

  async *listRotationPolicies(): AsyncIterable<RotationPolicyRef[]> {
    let start: Item | undefined;
    do {
      const out = await call(() =>
        this.table.client.send(
          new QueryCommand({
            TableName: this.table.tableName,
            IndexName: collectionIndex.indexName,
            KeyConditionExpression: 'gsi1pk = :c',
            ExpressionAttributeValues: { ':c': { S: ROTATION_POLICIES_COLLECTION } },
            Limit: POLICY_PAGE,
            ...(start && { ExclusiveStartKey: start }),
          }),
        ),
      );
      const refs: RotationPolicyRef[] = [];
      for (const item of out.Items ?? []) {
        // gsi1sk is `{vault}/{name}`, lower-cased; vault names hold no '/'.
        const sortKey = item.gsi1sk?.S ?? '';
        const slash = sortKey.indexOf('/');
        if (slash <= 0) continue;
        refs.push({ vault: sortKey.slice(0, slash), name: item.displayName?.S ?? sortKey.slice(slash + 1) });
      }
      if (refs.length > 0) yield refs;
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /**
   * The policy JSON of each of these keys (by item key `{vault}/keys/{name}`)
   * that has one, reading the policy items' key and policy attributes only.
   */
  async rotationPoliciesOf(pks: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const names = Object.fromEntries(POLICY_NOTICE_ATTRIBUTES.map((a) => [`#${a}`, a]));
    for (const batch of chunks([...new Set(pks)], MAX_BATCH_GET)) {
      let keys: Item[] = batch.map((pk) => key(pk, ROTATION_POLICY_SK));
      // Keys left unprocessed (throttling) after a few tries read as having no policy: the default threshold.
      for (let attempt = 0; keys.length > 0 && attempt < 3; attempt++) {
        const out = await call(() =>
          this.table.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.table.tableName]: {
                  Keys: keys,
                  ProjectionExpression: Object.keys(names).join(', '),
                  ExpressionAttributeNames: names,
                },
              },
            }),
          ),
        );
        for (const item of out.Responses?.[this.table.tableName] ?? []) {
          if (item.pk?.S && item.policy?.S) found.set(item.pk.S, item.policy.S);
        }
        keys = (out.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as Item[];
      }
    }
    return found;
  }

  async putRotatedVersion(
    vault: string,
    version: SecretVersion,
    rotatedFrom: string,
    audit?: AuditEntry,
  ): Promise<void> {
    const t = this.table;
    const pk = secretPk(vault, version.name, 'keys');
    const head = upsertHead(t, vault, version).Update;
    if (!head) throw new Error('upsertHead makes an Update');
    const items = withAudit(
      t,
      [
        putVersionItem(t, vault, version),
        {
          Update: {
            ...head,
            ConditionExpression: `(${head.ConditionExpression}) AND latestVersion = :rotatedFrom`,
            ExpressionAttributeValues: {
              ...head.ExpressionAttributeValues,
              ':rotatedFrom': { S: rotatedFrom },
            },
          },
        },
        {
          Update: {
            TableName: t.tableName,
            Key: key(pk, ROTATION_POLICY_SK),
            UpdateExpression: 'SET rotatedFrom = :from, rotatedTo = :to, rotatedAt = :at',
            ConditionExpression: 'attribute_exists(policy)',
            ExpressionAttributeValues: {
              ':from': { S: rotatedFrom },
              ':to': { S: version.version },
              ':at': { N: `${version.attributes.created}` },
            },
          },
        },
      ],
      audit,
      `keys/${version.name}/${version.version}`,
    );
    // Two sweeps writing at once may both be cancelled with TransactionConflict, and then neither rotated:
    // try again, so that one lands and the other then fails its condition (superseded).
    for (let attempt = 1; ; attempt++) {
      try {
        await t.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        break;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons?.includes('ConditionalCheckFailed')) throw new RotationSupersededError(version.name);
        if (reasons?.includes('TransactionConflict')) {
          if (attempt >= CONFLICT_ATTEMPTS) throw new RotationSupersededError(version.name);
          await new Promise((done) => setTimeout(done, 10 + Math.random() * 40 * attempt));
          continue;
        }
        translateDynamoError(error);
      }
    }
    audit?.committed();
  }

  async putRotationPolicy(
    vault: string,
    name: string,
    policy: string,
    now: number,
    audit?: AuditEntry,
  ): Promise<StoredRotationPolicy | undefined> {
    const pk = secretPk(vault, name, 'keys');
    const t = this.table;
    try {
      await t.client.send(
        new TransactWriteItemsCommand({
          TransactItems: withAudit(
            t,
            [
              {
                ConditionCheck: {
                  TableName: t.tableName,
                  Key: key(pk, HEAD_SK),
                  ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedDate)',
                },
              },
              {
                Update: {
                  TableName: t.tableName,
                  Key: key(pk, ROTATION_POLICY_SK),
                  UpdateExpression:
                    'SET policy = :p, updated = :now, created = if_not_exists(created, :now), ' +
                    'gsi1pk = :g, gsi1sk = :s, vault = :vault, displayName = :name',
                  ExpressionAttributeValues: {
                    ':p': { S: policy },
                    ':now': { N: `${now}` },
                    ':g': { S: ROTATION_POLICIES_COLLECTION },
                    ':s': { S: `${vault.toLowerCase()}/${name.toLowerCase()}` },
                    ':vault': { S: vault.toLowerCase() },
                    ':name': { S: name },
                  },
                },
              },
            ],
            audit,
            `keys/${name}/rotationpolicy`,
          ),
        }),
      );
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return undefined;
      translateDynamoError(error);
    }
    audit?.committed();
    return this.getRotationPolicy(vault, name);
  }
}
