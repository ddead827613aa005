import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import {
  type AuditSink,
  MalformedAuditImageError,
  recordsFromStream,
  shipAuditRecords,
  shipStreamBatch,
} from '#lib/audit/ship.ts';
import { auditRecord, streamEvent, streamRecord } from '../support/audit-records.ts';

/** A sink that keeps what it was given and fails the ids it is told to. */
function fakeSink(name: string, failing: Iterable<string> = []) {
  const fails = new Set(failing);
  const delivered: AuditRecord[][] = [];
  const sink: AuditSink = {
    name,
    deliver: async (records) => {
      delivered.push([...records]);
      return { failedIds: records.filter((r) => fails.has(r.id)).map((r) => r.id) };
    },
  };
  return { sink, delivered };
}

describe('shipAuditRecords', () => {
  it('delivers every record to every sink, and reports no failure when all land', async () => {
    const records = [auditRecord(), auditRecord()];
    const a = fakeSink('a');
    const b = fakeSink('b');
    const result = await shipAuditRecords(records, [a.sink, b.sink]);
    assert.deepEqual(result.failedIds, []);
    assert.deepEqual(a.delivered, [records]);
    assert.deepEqual(b.delivered, [records]);
  });

  it('delivers a record seen twice in a batch once, in its last image', async () => {
    const first = auditRecord({
      resultType: 'Success',
      properties: { ...auditRecord().properties, httpStatusCode: 200 },
    });
    const other = auditRecord();
    const rewritten: AuditRecord = {
      ...first,
      resultType: 'Failure',
      resultSignature: 'InternalServerError',
      properties: { ...first.properties, httpStatusCode: 500 },
    };
    const sink = fakeSink('a');
    await shipAuditRecords([first, other, rewritten, other], [sink.sink]);
    const [delivered] = sink.delivered;
    assert.equal(delivered?.length, 2);
    const shipped = delivered?.find((r) => r.id === first.id);
    assert.equal(shipped?.resultType, 'Failure');
    assert.equal(shipped?.properties.httpStatusCode, 500);
  });

  it('fails a record when any one sink fails it, and only the records some sink failed', async () => {
    const [r1, r2, r3] = [auditRecord(), auditRecord(), auditRecord()] as [
      AuditRecord,
      AuditRecord,
      AuditRecord,
    ];
    const firehose = fakeSink('firehose', [r2.id]);
    const kinesis = fakeSink('kinesis', [r3.id]);
    const logs = fakeSink('logs');
    const result = await shipAuditRecords([r1, r2, r3], [firehose.sink, logs.sink, kinesis.sink]);
    assert.deepEqual(new Set(result.failedIds), new Set([r2.id, r3.id]));
  });

  it('fails every record of a sink that throws, naming the error but no record', async () => {
    const records = [auditRecord(), auditRecord()];
    const broken: AuditSink = {
      name: 'broken',
      deliver: async () => {
        throw Object.assign(new Error(`cannot send ${JSON.stringify(records)}`), {
          name: 'ServiceUnavailable',
        });
      },
    };
    const result = await shipAuditRecords(records, [broken, fakeSink('ok').sink]);
    assert.deepEqual(new Set(result.failedIds), new Set(records.map((r) => r.id)));
    assert.deepEqual(result.problems, ['broken: ServiceUnavailable']);
    assert.ok(!JSON.stringify(result).includes(records[0]?.correlationId as string));
  });

  it('calls no sink for an empty batch', async () => {
    const sink = fakeSink('a');
    assert.deepEqual(await shipAuditRecords([], [sink.sink]), { failedIds: [] });
    assert.equal(sink.delivered.length, 0);
  });
});

describe('recordsFromStream', () => {
  it('reads each inserted or modified image in stream order, with its sequence number', () => {
    const a = auditRecord();
    const b = auditRecord();
    const streamed = recordsFromStream(streamEvent(streamRecord(a, '100'), streamRecord(b, '101', 'MODIFY')));
    assert.deepEqual(streamed, [
      { sequenceNumber: '100', record: a },
      { sequenceNumber: '101', record: b },
    ]);
  });

  it('ignores REMOVE events: TTL expiry at the end of the hot window', () => {
    const kept = auditRecord();
    const streamed = recordsFromStream(
      streamEvent(streamRecord(undefined, '200', 'REMOVE'), streamRecord(kept, '201')),
    );
    assert.deepEqual(
      streamed.map((s) => s.record.id),
      [kept.id],
    );
  });

  it('refuses an image without a readable record rather than skipping it', () => {
    const broken = streamRecord(undefined, '300');
    assert.throws(() => recordsFromStream(streamEvent(broken)), MalformedAuditImageError);
    const garbled = streamRecord(auditRecord(), '301');
    (garbled.dynamodb as { NewImage: unknown }).NewImage = { record: { S: '{not json' } };
    assert.throws(() => recordsFromStream(streamEvent(garbled)), /301/);
  });
});

describe('shipStreamBatch', () => {
  it('names every stream record of a failed id, both images of a rewritten record included', async () => {
    const ok = auditRecord();
    const bad = auditRecord();
    const sink = fakeSink('a', [bad.id]);
    const response = await shipStreamBatch(
      streamEvent(
        streamRecord(bad, '10'),
        streamRecord(ok, '11'),
        streamRecord({ ...bad, durationMs: 99 }, '12'),
      ),
      [sink.sink],
    );
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: '10' }, { itemIdentifier: '12' }]);
  });
});
