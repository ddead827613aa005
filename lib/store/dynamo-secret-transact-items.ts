import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { SecretVersion } from '../secrets/model.ts';
import { key, type SecretTable, versionSk } from './dynamo-secret-table.ts';
import {
  attributesToItem,
  expiryKeys,
  type Item,
  liveCollection,
  secretPk,
  tagsToItem,
  versionFields,
} from './secret-items.ts';
import { HEAD_SK } from './table-schema.ts';

/** The items of DynamoSecretStore's write transactions: versions, and the head that points at the latest. */

/** A new version item; refused when the version exists. */
export function putVersionItem(t: SecretTable, vault: string, v: SecretVersion): TransactWriteItem {
  return {
    Put: {
      TableName: t.tableName,
      Item: {
        ...key(secretPk(vault, v.name, t.collection), versionSk(v.version)),
        version: { S: v.version },
        ...versionFields(v),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Makes v the latest, keeping the first-created spelling of the name; refused while soft-deleted. */
export function upsertHead(t: SecretTable, vault: string, v: SecretVersion): TransactWriteItem {
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
    ':gsi1pk': { S: liveCollection(vault, t.collection) },
    ':gsi1sk': { S: v.name.toLowerCase() },
  };
  const expiry = expiryKeys(secretPk(vault, v.name, t.collection), v.attributes.exp);
  for (const field of [
    'attrs',
    'sealed',
    'contentType',
    'tags',
    'managed',
    'kid',
    'facts',
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
      TableName: t.tableName,
      Key: key(secretPk(vault, v.name, t.collection), HEAD_SK),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: 'attribute_not_exists(deletedDate)',
      ExpressionAttributeValues: values,
    },
  };
}

/** A head for a name that must be free (a restore): live, with `latest` as its latest version. */
export function createHead(t: SecretTable, vault: string, latest: SecretVersion): TransactWriteItem {
  return {
    Put: {
      TableName: t.tableName,
      Item: {
        ...key(secretPk(vault, latest.name, t.collection), HEAD_SK),
        latestVersion: { S: latest.version },
        ...expiryKeys(secretPk(vault, latest.name, t.collection), latest.attributes.exp),
        gsi1pk: { S: liveCollection(vault, t.collection) },
        gsi1sk: { S: latest.name.toLowerCase() },
        ...versionFields(latest),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Rewrites the mutable fields of a version item, or of the head's copy of the latest version. */
export function rewriteFields(
  t: SecretTable,
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
  if (v.facts !== undefined) {
    sets.push('facts = :facts');
    values[':facts'] = { S: v.facts };
  }
  if (sk === HEAD_SK) {
    // The head's copy of the latest version keeps the expiry index in step with its exp.
    const expiry = expiryKeys(secretPk(vault, v.name, t.collection), v.attributes.exp);
    if (expiry.expBucket && expiry.expSort) {
      sets.push('expBucket = :expBucket', 'expSort = :expSort');
      values[':expBucket'] = expiry.expBucket;
      values[':expSort'] = expiry.expSort;
    } else removes.push('expBucket', 'expSort');
  }
  return {
    Update: {
      TableName: t.tableName,
      Key: key(secretPk(vault, v.name, t.collection), sk),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: condition,
      ExpressionAttributeValues: values,
    },
  };
}

/** When the version is the latest, the head's copy changes with it; otherwise the head must not move under us. */
export function guardHead(
  t: SecretTable,
  vault: string,
  v: SecretVersion,
  isLatest: boolean,
): TransactWriteItem {
  const condition = `attribute_not_exists(deletedDate) AND latestVersion ${isLatest ? '=' : '<>'} :v`;
  const values: Item = { ':v': { S: v.version } };
  if (isLatest) return rewriteFields(t, vault, v, HEAD_SK, condition, values);
  return {
    ConditionCheck: {
      TableName: t.tableName,
      Key: key(secretPk(vault, v.name, t.collection), HEAD_SK),
      ConditionExpression: condition,
      ExpressionAttributeValues: values,
    },
  };
}
