import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import type { SecretUpdate, SecretVersion } from '../secrets/model.ts';
import { cancellationReasons, translateDynamoError } from './dynamo-errors.ts';
import { getVersion } from './dynamo-secret-reads.ts';
import {
  getHeadItem,
  nounOf,
  type SecretTable,
  softDeletedConflict,
  versionSk,
  withAudit,
} from './dynamo-secret-table.ts';
import { guardHead, putVersionItem, rewriteFields, upsertHead } from './dynamo-secret-transact-items.ts';

/** Writes of versions of a live secret: each is one transaction with the head (and the audit record). */

/** Adds a version and makes it the latest. ConflictError while the name is soft-deleted. */
export async function putVersion(
  t: SecretTable,
  vault: string,
  v: SecretVersion,
  audit?: AuditEntry,
): Promise<void> {
  try {
    await t.client.send(
      new TransactWriteItemsCommand({
        TransactItems: withAudit(
          t,
          [putVersionItem(t, vault, v), upsertHead(t, vault, v)],
          audit,
          `${t.collection}/${v.name}/${v.version}`,
        ),
      }),
    );
  } catch (error) {
    if (cancellationReasons(error)?.[1] === 'ConditionalCheckFailed')
      throw softDeletedConflict(v.name, t.collection);
    translateDynamoError(error);
  }
  audit?.committed();
}

/** The version to update, as the caller names it. */
export interface VersionRef {
  readonly vault: string;
  readonly name: string;
  readonly version: string;
}

/** Updates one version of a live secret, retrying while concurrent writes move the head; undefined when there is none. */
export async function updateVersion(
  t: SecretTable,
  { vault, name, version }: VersionRef,
  update: SecretUpdate,
  now: number,
  audit?: AuditEntry,
): Promise<SecretVersion | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getVersion(t, vault, name, version);
    if (!current || current.deletion) return undefined;
    const head = await getHeadItem(t, vault, name);
    const isLatest = head?.latestVersion?.S === current.version.version;
    const next = applyUpdate(current.version, update, now);
    try {
      await t.client.send(
        new TransactWriteItemsCommand({
          TransactItems: withAudit(
            t,
            [
              rewriteFields(t, vault, next, versionSk(next.version), 'attribute_exists(pk)'),
              guardHead(t, vault, next, isLatest),
            ],
            audit,
            `${t.collection}/${next.name}/${next.version}`,
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
  throw new ConflictError(`${nounOf(t.collection)} ${name} is being changed concurrently; retry.`);
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
    ...(update.facts !== undefined && { facts: update.facts }),
  };
}
