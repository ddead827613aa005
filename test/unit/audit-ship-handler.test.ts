import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { parseShipConfig } from '#lib/audit/ship-config.ts';
import { auditRecord, streamEvent, streamRecord } from '../support/audit-records.ts';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  ARCA_AUDIT_FIREHOSE_STREAM: 'arca-audit',
  ARCA_AUDIT_LOG_GROUP: '/arca/audit',
  ARCA_AUDIT_KINESIS_STREAM: 'arca-audit-subscribers',
});
const { handler } = await import('#functions/streams/audit-ship.ts');

const firehose = mockClient(FirehoseClient);
const logs = mockClient(CloudWatchLogsClient);
const kinesis = mockClient(KinesisClient);

/** Sinks that accept everything except the record ids each is told to fail. */
function sinksFailing(ids: { firehose?: string[]; kinesis?: string[] } = {}) {
  const idOf = (data: Uint8Array | undefined) => JSON.parse(Buffer.from(data ?? []).toString()).id as string;
  firehose.on(PutRecordBatchCommand).callsFake((input) => ({
    FailedPutCount: 0,
    RequestResponses: input.Records.map((r: { Data: Uint8Array }, i: number) =>
      ids.firehose?.includes(idOf(r.Data))
        ? { ErrorCode: 'ServiceUnavailableException' }
        : { RecordId: `${i}` },
    ),
  }));
  kinesis.on(PutRecordsCommand).callsFake((input) => ({
    FailedRecordCount: 0,
    Records: input.Records.map((r: { Data: Uint8Array }, i: number) =>
      ids.kinesis?.includes(idOf(r.Data))
        ? { ErrorCode: 'ProvisionedThroughputExceededException' }
        : { SequenceNumber: `${i}`, ShardId: 'shardId-0' },
    ),
  }));
  logs.on(PutLogEventsCommand).resolves({});
}

describe('the audit-ship handler', () => {
  beforeEach(() => {
    firehose.reset();
    logs.reset();
    kinesis.reset();
  });

  it('reports no failure when every sink takes every record, and ships to all three', async () => {
    sinksFailing();
    const [a, b] = [auditRecord(), auditRecord()];
    const response = await handler(streamEvent(streamRecord(a, '100'), streamRecord(b, '101')));
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(
      firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName,
      'arca-audit',
    );
    assert.equal(logs.commandCalls(PutLogEventsCommand)[0]?.args[0].input.logStreamName, 'audit');
    assert.equal(
      kinesis.commandCalls(PutRecordsCommand)[0]?.args[0].input.StreamName,
      'arca-audit-subscribers',
    );
  });

  it('names the sequence numbers of the records any sink failed, so Lambda retries from the first', async () => {
    const [a, b, c, d] = [auditRecord(), auditRecord(), auditRecord(), auditRecord()];
    sinksFailing({ firehose: [b.id], kinesis: [d.id] });
    const response = await handler(
      streamEvent(
        streamRecord(a, '200'),
        streamRecord(b, '201'),
        streamRecord(c, '202'),
        streamRecord(d, '203'),
      ),
    );
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: '201' }, { itemIdentifier: '203' }]);
  });

  it('ships a record seen twice once, and names both of its sequence numbers when it fails', async () => {
    const a = auditRecord();
    const rewritten = { ...a, resultType: 'Failure' as const };
    sinksFailing({ firehose: [a.id] });
    const response = await handler(streamEvent(streamRecord(a, '300'), streamRecord(rewritten, '301')));
    const sent = firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.Records ?? [];
    assert.equal(sent.length, 1);
    assert.equal(JSON.parse(Buffer.from(sent[0]?.Data ?? []).toString()).resultType, 'Failure');
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: '300' }, { itemIdentifier: '301' }]);
  });

  it('fails the whole batch when a sink refuses the call, and skips TTL removals', async () => {
    sinksFailing();
    logs
      .on(PutLogEventsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const [a, b] = [auditRecord(), auditRecord()];
    const response = await handler(
      streamEvent(streamRecord(a, '400'), streamRecord(undefined, '401', 'REMOVE'), streamRecord(b, '402')),
    );
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: '400' }, { itemIdentifier: '402' }]);
  });
});

describe('parseShipConfig', () => {
  it('fails loudly, naming every missing variable', () => {
    assert.throws(
      () => parseShipConfig({ ARCA_AUDIT_LOG_GROUP: '/arca/audit' }),
      /ARCA_AUDIT_FIREHOSE_STREAM: required; ARCA_AUDIT_KINESIS_STREAM: required/,
    );
  });

  it('writes to the log stream "audit" unless told otherwise', () => {
    const env = {
      ARCA_AUDIT_FIREHOSE_STREAM: 'f',
      ARCA_AUDIT_LOG_GROUP: 'g',
      ARCA_AUDIT_KINESIS_STREAM: 'k',
    };
    assert.equal(parseShipConfig(env).ARCA_AUDIT_LOG_STREAM, 'audit');
    assert.equal(parseShipConfig({ ...env, ARCA_AUDIT_LOG_STREAM: 'other' }).ARCA_AUDIT_LOG_STREAM, 'other');
  });
});
