import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersion } from '../secrets/model.ts';
import type { AuditTable } from './audit-items.ts';
import { type DynamoClient, getItem, queryAll } from './dynamo-calls.ts';
import { cancellationReasons, translateDynamoError } from './dynamo-errors.ts';
import { DynamoSecretStore } from './dynamo-secret-store.ts';
import { key, withAudit } from './dynamo-secret-table.ts';
import type { KeyStore, StoredRotationPolicy } from './key-store.ts';
import { secretPk, versionFromItem } from './secret-items.ts';
import { HEAD_SK, VERSION_SK_PREFIX } from './table-schema.ts';

/** The sort key of a key's rotation policy, beside its head and versions. */
export const ROTATION_POLICY_SK = '#rotationpolicy';
/** Every stored rotation policy is listed under this index partition, for the rotation sweep. */
export const ROTATION_POLICIES_COLLECTION = '#rotationpolicies';

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
    };
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
