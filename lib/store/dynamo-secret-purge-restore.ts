import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import type { SecretVersion } from '../secrets/model.ts';
import { call, chunks, deleteAll, queryAll } from './dynamo-calls.ts';
import { cancellationReasons, translateDynamoError } from './dynamo-errors.ts';
import { updateHead } from './dynamo-secret-head-updates.ts';
import { getHeadItem, key, nounOf, type SecretTable, withAudit } from './dynamo-secret-table.ts';
import { createHead, putVersionItem } from './dynamo-secret-transact-items.ts';
import { type Collection, secretPk } from './secret-items.ts';
import { HEAD_SK } from './table-schema.ts';

/** The writes that outgrow one transaction: removing a secret for good, and writing one back from a backup. */

const MAX_TRANSACTION_ITEMS = 100;

/** Removes a soft-deleted secret and every version; false when none is deleted under that name. */
export async function purge(
  t: SecretTable,
  vault: string,
  name: string,
  audit?: AuditEntry,
): Promise<boolean> {
  // Mark first (with the audit record), so a purge cut short is finished by the next purge and never
  // recovered half-empty.
  const marked = await updateHead(t, vault, name, audit, {
    UpdateExpression: 'SET purging = :t',
    ConditionExpression: 'attribute_exists(deletedDate)',
    ExpressionAttributeValues: { ':t': { BOOL: true } },
  });
  if (!marked) return false;
  const pk = secretPk(vault, name, t.collection);
  const versionKeys = await queryAll(t.client, t.tableName, {
    // Every item but the head: the versions, and a key's rotation policy.
    KeyConditionExpression: 'pk = :pk AND sk > :head',
    ExpressionAttributeValues: { ':pk': { S: pk }, ':head': { S: HEAD_SK } },
    ProjectionExpression: 'pk, sk',
    ConsistentRead: true,
  });
  await deleteAll(t.client, t.tableName, versionKeys, `Purge of ${name} did not finish; retry the purge.`);
  await call(() =>
    t.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Delete: { TableName: t.tableName, Key: key(pk, HEAD_SK) } }],
      }),
    ),
  );
  return true;
}

/** Writes a secret restored from a backup. ConflictError when the name exists, live or deleted. */
export async function restore(
  t: SecretTable,
  vault: string,
  versions: readonly SecretVersion[],
  latestVersion: string,
  audit?: AuditEntry,
): Promise<void> {
  const latest = versions.find((v) => v.version === latestVersion);
  if (!latest) throw new Error('restore needs its latest version among the versions');
  const name = latest.name;
  if (await getHeadItem(t, vault, name)) throw restoreConflict(name, t.collection);
  const items = versions.map((v) => putVersionItem(t, vault, v));
  // The head goes in the last transaction: until it lands, the restored versions are invisible.
  const groups = chunks(items, MAX_TRANSACTION_ITEMS - 2);
  try {
    for (const [i, group] of groups.entries()) {
      const last = i === groups.length - 1;
      const transactItems = last
        ? withAudit(
            t,
            [...group, createHead(t, vault, latest)],
            audit,
            `${t.collection}/${name}/${latest.version}`,
          )
        : group;
      await t.client.send(new TransactWriteItemsCommand({ TransactItems: transactItems }));
    }
  } catch (error) {
    if (cancellationReasons(error)?.includes('ConditionalCheckFailed'))
      throw restoreConflict(name, t.collection);
    translateDynamoError(error);
  }
  audit?.committed();
}

function restoreConflict(name: string, collection: Collection): ConflictError {
  return new ConflictError(
    `${nounOf(collection)} ${name} already exists in this vault (live or deleted); a backup restores only onto a free name.`,
  );
}
