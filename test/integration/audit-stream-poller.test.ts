import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { startAuditStreamPoller } from '#lib/local/audit-stream-poller.ts';
import { auditItem } from '#lib/store/audit-items.ts';
import { createAuditTableIfMissing } from '#lib/store/create-table.ts';
import { auditRecord } from '../support/audit-records.ts';
import { dynamoClient, testEnvironment } from '../support/environment.ts';

/** The ids in audit.jsonl, once `ids` are all there (or the time is up). */
async function shippedIds(path: string, ids: string[], timeoutMs = 8_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
    const shipped = lines.map((line) => (JSON.parse(line) as AuditRecord).id);
    if (ids.every((id) => shipped.includes(id)) || Date.now() > deadline) return shipped;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the local audit stream poller on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let dataDir: string;
  const table = () => ({ name: tableName, hotDays: 90 });

  before(async () => {
    client = dynamoClient();
    tableName = `audit-${randomBytes(6).toString('hex')}`;
    await createAuditTableIfMissing(client, tableName);
    dataDir = mkdtempSync(join(tmpdir(), 'arca-audit-poller-'));
  });
  after(() => {
    client.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    startAuditStreamPoller({ endpoint: testEnvironment().endpoint, tableName, dataDir, stdout: false });
  const put = (record: AuditRecord) =>
    client.send(new PutItemCommand({ TableName: tableName, Item: auditItem(table(), record) }));

  it('ships a record written to the audit table into audit.jsonl (0600) within seconds', async () => {
    const poller = start();
    try {
      const record = auditRecord({ time: new Date().toISOString() });
      await put(record);
      const path = join(dataDir, 'audit.jsonl');
      const shipped = await shippedIds(path, [record.id]);
      assert.deepEqual(shipped, [record.id]);
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), record);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    } finally {
      await poller.stop();
    }
  });

  it('continues after a restart from its checkpoint: records written while stopped arrive once', async () => {
    const path = join(dataDir, 'audit.jsonl');
    const whileStopped = auditRecord({ time: new Date().toISOString() });
    await put(whileStopped);
    const poller = start();
    try {
      const later = auditRecord({ time: new Date().toISOString() });
      await put(later);
      const shipped = await shippedIds(path, [whileStopped.id, later.id]);
      // The first test's record is not shipped again: the checkpoint moved past it.
      assert.equal(shipped.length, 3);
      assert.deepEqual(shipped.slice(1), [whileStopped.id, later.id]);
      assert.ok(existsSync(join(dataDir, 'audit-stream-checkpoint.json')));
    } finally {
      await poller.stop();
    }
  });

  it('keeps a record it could not write and ships it once the file can be written', async () => {
    const path = join(dataDir, 'audit.jsonl');
    rmSync(path);
    mkdirSync(path); // appending to a folder fails
    const poller = start();
    try {
      const record = auditRecord({ time: new Date().toISOString() });
      await put(record);
      await new Promise((r) => setTimeout(r, 1_500));
      rmSync(path, { recursive: true });
      assert.deepEqual(await shippedIds(path, [record.id]), [record.id]);
    } finally {
      await poller.stop();
    }
  });

  it('passes over an item that holds no audit record, and ships the records after it', async () => {
    const path = join(dataDir, 'audit.jsonl');
    const poller = start();
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: 'x/2026-03-01' }, sk: { S: 'broken' } },
        }),
      );
      const next = auditRecord({ time: new Date().toISOString() });
      await put(next);
      assert.ok((await shippedIds(path, [next.id])).includes(next.id));
    } finally {
      await poller.stop();
    }
  });
});
