import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { AuditRecord } from '../audit-record.ts';
import { type AuditSink, errorName, type SinkResult } from '../ship.ts';
import { batchesWithin, MiB } from './batches.ts';

/** PutRecords: 500 records and 5 MiB a call, 1 MiB a record (data and partition key). */
const limits = { count: 500, bytes: 5 * MiB };

/**
 * Records to a Kinesis data stream for subscribers, partitioned by vault so
 * each vault's records stay in order on one shard.
 */
export class KinesisSink implements AuditSink {
  readonly name = 'kinesis';

  constructor(
    private readonly client: Pick<KinesisClient, 'send'>,
    private readonly streamName: string,
  ) {}

  async deliver(records: readonly AuditRecord[]): Promise<SinkResult> {
    const failedIds: string[] = [];
    const problems = new Set<string>();
    const entries = records.map((record) => {
      const partitionKey = record.vault || '-';
      const data = Buffer.from(JSON.stringify(record), 'utf8');
      return { id: record.id, partitionKey, data, bytes: data.length + Buffer.byteLength(partitionKey) };
    });
    const deliverable = entries.filter((e) => {
      if (e.bytes <= MiB) return true;
      failedIds.push(e.id);
      problems.add('RecordTooLarge');
      return false;
    });
    for (const batch of batchesWithin(deliverable, limits, (e) => e.bytes)) {
      try {
        const out = await this.client.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: batch.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
          }),
        );
        const results = out.Records ?? [];
        batch.forEach((entry, i) => {
          const result = results[i];
          if (result && !result.ErrorCode && result.SequenceNumber !== undefined) return;
          failedIds.push(entry.id);
          problems.add(result?.ErrorCode ?? 'NoRecordResult');
        });
      } catch (error) {
        failedIds.push(...batch.map((e) => e.id));
        problems.add(errorName(error));
      }
    }
    return { failedIds, problems: [...problems] };
  }
}
