import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { AuditRecord } from '../audit-record.ts';
import { type AuditSink, errorName, type SinkResult } from '../ship.ts';
import { batchesWithin, MiB } from './batches.ts';

/** PutRecordBatch: 500 records and 4 MiB a call, 1,000 KiB a record. */
const limits = { count: 500, bytes: 4 * MiB };
const MAX_RECORD_BYTES = 1000 * 1024;

/**
 * Records to a Firehose stream (archived to S3), one JSON line each so the
 * objects Firehose writes are newline-delimited JSON.
 */
export class FirehoseSink implements AuditSink {
  readonly name = 'firehose';

  constructor(
    private readonly client: Pick<FirehoseClient, 'send'>,
    private readonly deliveryStreamName: string,
  ) {}

  async deliver(records: readonly AuditRecord[]): Promise<SinkResult> {
    const failedIds: string[] = [];
    const problems = new Set<string>();
    const entries = records.map((record) => ({
      id: record.id,
      data: Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'),
    }));
    const deliverable = entries.filter((e) => {
      if (e.data.length <= MAX_RECORD_BYTES) return true;
      failedIds.push(e.id);
      problems.add('RecordTooLarge');
      return false;
    });
    for (const batch of batchesWithin(deliverable, limits, (e) => e.data.length)) {
      try {
        const out = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.deliveryStreamName,
            Records: batch.map((e) => ({ Data: e.data })),
          }),
        );
        // A response without per-record results says nothing landed for sure.
        const responses = out.RequestResponses ?? [];
        batch.forEach((entry, i) => {
          const response = responses[i];
          if (response && !response.ErrorCode && response.RecordId !== undefined) return;
          failedIds.push(entry.id);
          problems.add(response?.ErrorCode ?? 'NoRecordResult');
        });
      } catch (error) {
        failedIds.push(...batch.map((e) => e.id));
        problems.add(errorName(error));
      }
    }
    return { failedIds, problems: [...problems] };
  }
}
