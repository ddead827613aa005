import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  type InputLogEvent,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { CloudWatchLogsSink } from '#lib/audit/sinks/cloudwatch-logs-sink.ts';
import { FirehoseSink } from '#lib/audit/sinks/firehose-sink.ts';
import { JsonLinesFileSink } from '#lib/audit/sinks/jsonl-file-sink.ts';
import { KinesisSink } from '#lib/audit/sinks/kinesis-sink.ts';
import { auditRecord } from '../support/audit-records.ts';

const records = (n: number, overrides: Partial<AuditRecord> = {}) =>
  Array.from({ length: n }, () => auditRecord(overrides));

/** A record of about `kib` KiB (a long client string stands in for a large record). */
const bigRecord = (kib: number) =>
  auditRecord({ properties: { ...auditRecord().properties, clientInfo: 'x'.repeat(kib * 1024) } });

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'server', $metadata: {} });
}

/** What a caller could ever see of a failure: ids and problems, never a record's fields. */
function assertNoContent(result: unknown, shipped: readonly AuditRecord[]): void {
  const text = JSON.stringify(result);
  for (const r of shipped) {
    assert.ok(!text.includes(r.correlationId), 'a correlation id leaked');
    assert.ok(!text.includes(r.properties.requestUri), 'a request URI leaked');
  }
}

const bytesOf = (data: Uint8Array | undefined) => data?.length ?? 0;

describe('FirehoseSink', () => {
  const firehose = mockClient(FirehoseClient);
  const sink = new FirehoseSink(new FirehoseClient({ region: 'eu-west-1' }), 'arca-audit');
  beforeEach(() => {
    firehose.reset();
    firehose.on(PutRecordBatchCommand).callsFake((input) => ({
      FailedPutCount: 0,
      RequestResponses: input.Records.map((_: unknown, i: number) => ({ RecordId: `rec-${i}` })),
    }));
  });

  it('sends 1,200 records in three calls of at most 500, one JSON line each', async () => {
    const shipped = records(1_200);
    const result = await sink.deliver(shipped);
    assert.deepEqual(result.failedIds, []);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    assert.deepEqual(
      calls.map((c) => c.args[0].input.Records?.length),
      [500, 500, 200],
    );
    assert.equal(calls[0]?.args[0].input.DeliveryStreamName, 'arca-audit');
    const lines = calls
      .flatMap((c) => c.args[0].input.Records ?? [])
      .map((r) => Buffer.from(r.Data ?? []).toString());
    assert.ok(lines.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1));
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).id),
      shipped.map((r) => r.id),
    );
  });

  it('keeps each call under 4 MiB', async () => {
    const shipped = Array.from({ length: 30 }, () => bigRecord(300));
    assert.deepEqual((await sink.deliver(shipped)).failedIds, []);
    const sizes = firehose
      .commandCalls(PutRecordBatchCommand)
      .map((c) => (c.args[0].input.Records ?? []).reduce((n, r) => n + bytesOf(r.Data), 0));
    assert.ok(sizes.length >= 3, `${sizes.length} calls`);
    assert.ok(sizes.every((size) => size <= 4 * 1024 * 1024));
  });

  it('fails exactly the records the response marks with an ErrorCode', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input) => ({
      FailedPutCount: 1,
      RequestResponses: input.Records.map((_: unknown, i: number) =>
        i === 1
          ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
          : { RecordId: `rec-${i}` },
      ),
    }));
    const shipped = records(600);
    const result = await sink.deliver(shipped);
    // The second entry of each call (500 + 100 records): positions 1 and 501 of the batch.
    assert.deepEqual(result.failedIds, [shipped[1]?.id, shipped[501]?.id]);
    assert.deepEqual(result.problems, ['ServiceUnavailableException']);
  });

  it('fails the whole call when it is refused, naming the error but no record', async () => {
    const shipped = records(3);
    firehose
      .on(PutRecordBatchCommand)
      .rejects(awsError('ResourceNotFoundException', JSON.stringify(shipped)));
    const result = await sink.deliver(shipped);
    assert.deepEqual(
      result.failedIds,
      shipped.map((r) => r.id),
    );
    assert.deepEqual(result.problems, ['ResourceNotFoundException']);
    assertNoContent(result, shipped);
  });

  it('fails a record too large for Firehose without sending it', async () => {
    const big = bigRecord(1_100);
    const small = auditRecord();
    const result = await sink.deliver([big, small]);
    assert.deepEqual(result.failedIds, [big.id]);
    assert.equal(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.Records?.length, 1);
  });
});

describe('KinesisSink', () => {
  const kinesis = mockClient(KinesisClient);
  const sink = new KinesisSink(new KinesisClient({ region: 'eu-west-1' }), 'arca-audit-subscribers');
  beforeEach(() => {
    kinesis.reset();
    kinesis.on(PutRecordsCommand).callsFake((input) => ({
      FailedRecordCount: 0,
      Records: input.Records.map((_: unknown, i: number) => ({
        SequenceNumber: `${i}`,
        ShardId: 'shardId-0',
      })),
    }));
  });

  it('sends 1,200 records in three calls of at most 500, partitioned by vault', async () => {
    const shipped = [...records(700, { vault: 'payments' }), ...records(500, { vault: 'orders' })];
    assert.deepEqual((await sink.deliver(shipped)).failedIds, []);
    const calls = kinesis.commandCalls(PutRecordsCommand);
    assert.deepEqual(
      calls.map((c) => c.args[0].input.Records?.length),
      [500, 500, 200],
    );
    assert.equal(calls[0]?.args[0].input.StreamName, 'arca-audit-subscribers');
    const sent = calls.flatMap((c) => c.args[0].input.Records ?? []);
    sent.forEach((entry, i) => {
      const record = JSON.parse(Buffer.from(entry.Data ?? []).toString());
      assert.equal(record.id, shipped[i]?.id);
      assert.equal(entry.PartitionKey, shipped[i]?.vault);
    });
  });

  it('fails exactly the records the response marks with an ErrorCode', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input) => ({
      FailedRecordCount: 1,
      Records: input.Records.map((_: unknown, i: number) =>
        i === 2
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
          : { SequenceNumber: `${i}`, ShardId: 'shardId-0' },
      ),
    }));
    const shipped = records(4);
    const result = await sink.deliver(shipped);
    assert.deepEqual(result.failedIds, [shipped[2]?.id]);
    assert.deepEqual(result.problems, ['ProvisionedThroughputExceededException']);
  });

  it('fails the whole call when it is refused, naming the error but no record', async () => {
    const shipped = records(2);
    kinesis.on(PutRecordsCommand).rejects(awsError('KMSThrottlingException', JSON.stringify(shipped)));
    const result = await sink.deliver(shipped);
    assert.deepEqual(
      result.failedIds,
      shipped.map((r) => r.id),
    );
    assertNoContent(result, shipped);
  });
});

describe('CloudWatchLogsSink', () => {
  const logs = mockClient(CloudWatchLogsClient);
  const sink = new CloudWatchLogsSink(
    new CloudWatchLogsClient({ region: 'eu-west-1' }),
    '/arca/audit',
    'audit',
  );
  beforeEach(() => {
    logs.reset();
    logs.on(PutLogEventsCommand).resolves({});
  });
  const sentEvents = (): InputLogEvent[][] =>
    logs.commandCalls(PutLogEventsCommand).map((c) => c.args[0].input.logEvents ?? []);

  it('puts one event per record, stamped with its time, in time order, to the configured group and stream', async () => {
    const late = auditRecord({ time: '2026-03-01T12:00:05.000Z' });
    const early = auditRecord({ time: '2026-03-01T12:00:01.000Z' });
    assert.deepEqual((await sink.deliver([late, early])).failedIds, []);
    const [call] = logs.commandCalls(PutLogEventsCommand);
    assert.equal(call?.args[0].input.logGroupName, '/arca/audit');
    assert.equal(call?.args[0].input.logStreamName, 'audit');
    assert.deepEqual(
      call?.args[0].input.logEvents?.map((e) => [e.timestamp, JSON.parse(e.message ?? '').id]),
      [
        [Date.parse(early.time), early.id],
        [Date.parse(late.time), late.id],
      ],
    );
  });

  it('keeps calls within 10,000 events, 1 MiB and 24 hours', async () => {
    // A real record is some 700 bytes, so the 1 MiB limit binds well before the 10,000 events.
    const shipped = records(12_000);
    assert.deepEqual((await sink.deliver(shipped)).failedIds, []);
    const calls = sentEvents();
    assert.ok(calls.length >= 9, `${calls.length} calls`);
    for (const events of calls) {
      const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.message ?? '') + 26, 0);
      assert.ok(events.length <= 10_000 && bytes <= 1024 * 1024, `${events.length} events, ${bytes} bytes`);
    }
    assert.deepEqual(
      calls.flat().map((e) => JSON.parse(e.message ?? '').id),
      shipped.map((r) => r.id),
    );

    logs.resetHistory();
    await sink.deliver([
      auditRecord({ time: '2026-03-01T00:00:00.000Z' }),
      auditRecord({ time: '2026-03-03T00:00:00.000Z' }),
    ]);
    assert.equal(sentEvents().length, 2);
  });

  it('creates the log stream when it is missing, then tries once more', async () => {
    logs
      .on(PutLogEventsCommand)
      .rejectsOnce(awsError('ResourceNotFoundException', 'The specified log stream does not exist.'))
      .resolves({});
    logs.on(CreateLogStreamCommand).resolves({});
    const shipped = records(3);
    assert.deepEqual((await sink.deliver(shipped)).failedIds, []);
    assert.equal(logs.commandCalls(PutLogEventsCommand).length, 2);
    assert.deepEqual(logs.commandCalls(CreateLogStreamCommand)[0]?.args[0].input, {
      logGroupName: '/arca/audit',
      logStreamName: 'audit',
    });
  });

  it('fails every record of a call still refused after creating the stream', async () => {
    logs
      .on(PutLogEventsCommand)
      .rejects(awsError('ResourceNotFoundException', 'The log group does not exist.'));
    logs
      .on(CreateLogStreamCommand)
      .rejects(awsError('ResourceNotFoundException', 'The log group does not exist.'));
    const shipped = records(2);
    const result = await sink.deliver(shipped);
    assert.deepEqual(
      result.failedIds,
      shipped.map((r) => r.id),
    );
    assert.deepEqual(result.problems, ['ResourceNotFoundException']);
  });

  it('fails every record of a rejected call, naming the error but no record', async () => {
    const shipped = records(5);
    logs.on(PutLogEventsCommand).rejects(awsError('InvalidParameterException', JSON.stringify(shipped)));
    const result = await sink.deliver(shipped);
    assert.deepEqual(new Set(result.failedIds), new Set(shipped.map((r) => r.id)));
    assertNoContent(result, shipped);
  });

  it('fails the events the service reports it rejected', async () => {
    logs.on(PutLogEventsCommand).resolves({ rejectedLogEventsInfo: { tooNewLogEventStartIndex: 2 } });
    const shipped = [0, 1, 2, 3].map((s) => auditRecord({ time: `2026-03-01T12:00:0${s}.000Z` }));
    const result = await sink.deliver(shipped);
    assert.deepEqual(result.failedIds, [shipped[2]?.id, shipped[3]?.id]);
  });
});

describe('JsonLinesFileSink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-audit-sink-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per record to a file only its owner can read, and echoes when told', async () => {
    const path = join(dir, 'audit.jsonl');
    const echoed: string[] = [];
    const sink = new JsonLinesFileSink({ path, echo: { write: (chunk: string) => echoed.push(chunk) } });
    const first = records(2);
    const second = records(1);
    assert.deepEqual((await sink.deliver(first)).failedIds, []);
    assert.deepEqual((await sink.deliver(second)).failedIds, []);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).id),
      [...first, ...second].map((r) => r.id),
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(echoed.join(''), readFileSync(path, 'utf8'));
  });

  it('narrows a file made earlier with a wider mode', async () => {
    const path = join(dir, 'wide.jsonl');
    writeFileSync(path, '', { mode: 0o644 });
    await new JsonLinesFileSink({ path }).deliver(records(1));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('fails the batch when the file cannot be written, naming the error but no record', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const shipped = records(2);
    const result = await new JsonLinesFileSink({ path: join(blocker, 'audit.jsonl') }).deliver(shipped);
    assert.deepEqual(
      result.failedIds,
      shipped.map((r) => r.id),
    );
    assertNoContent(result, shipped);
  });
});
