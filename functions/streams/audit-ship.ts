import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { type AuditSink, shipStreamBatch } from '#lib/audit/ship.ts';
import { parseShipConfig } from '#lib/audit/ship-config.ts';
import { CloudWatchLogsSink } from '#lib/audit/sinks/cloudwatch-logs-sink.ts';
import { FirehoseSink } from '#lib/audit/sinks/firehose-sink.ts';
import { KinesisSink } from '#lib/audit/sinks/kinesis-sink.ts';

let sinks: AuditSink[] | undefined;

/** Made on the first batch of a container, from its environment. */
function containerSinks(): AuditSink[] {
  if (sinks) return sinks;
  const cfg = parseShipConfig(process.env);
  sinks = [
    new FirehoseSink(new FirehoseClient({}), cfg.ARCA_AUDIT_FIREHOSE_STREAM),
    new CloudWatchLogsSink(new CloudWatchLogsClient({}), cfg.ARCA_AUDIT_LOG_GROUP, cfg.ARCA_AUDIT_LOG_STREAM),
    new KinesisSink(new KinesisClient({}), cfg.ARCA_AUDIT_KINESIS_STREAM),
  ];
  return sinks;
}

/**
 * The audit table's stream, shipped to every sink. Failed records are named
 * by sequence number, so Lambda retries from the first of them; after its
 * retries the batch goes to the on-failure queue. Nothing is dropped here.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { batchItemFailures, problems } = await shipStreamBatch(event, containerSinks());
  if (batchItemFailures.length > 0) {
    // Counts and error codes only: never a record.
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'audit records not delivered; the batch will be retried from the first of them',
        records: event.Records.length,
        failed: batchItemFailures.length,
        problems,
      }),
    );
  }
  return { batchItemFailures };
};
