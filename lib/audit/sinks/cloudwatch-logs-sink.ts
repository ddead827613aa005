import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  type InputLogEvent,
  PutLogEventsCommand,
  type PutLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AuditRecord } from '../audit-record.ts';
import { type AuditSink, errorName, type SinkResult } from '../ship.ts';
import { batchesWithin, MiB } from './batches.ts';

/** PutLogEvents: 10,000 events and 1 MiB a call (each event counts 26 bytes over its message). */
const limits = { count: 10_000, bytes: MiB };
const EVENT_OVERHEAD = 26;
const MAX_EVENT_BYTES = 256 * 1024;
/** A call's events may span at most 24 hours. */
const MAX_SPAN_MS = 24 * 3_600_000;

interface Entry {
  readonly id: string;
  readonly event: InputLogEvent;
  readonly bytes: number;
}

/**
 * Records to a CloudWatch Logs group and stream, one JSON event each, stamped
 * with the record's own time so Logs Insights queries by when requests were
 * made. The stream is created when missing (the stack creates it; this
 * covers a deleted one).
 */
export class CloudWatchLogsSink implements AuditSink {
  readonly name = 'cloudwatch-logs';

  constructor(
    private readonly client: Pick<CloudWatchLogsClient, 'send'>,
    private readonly logGroupName: string,
    private readonly logStreamName: string,
  ) {}

  async deliver(records: readonly AuditRecord[]): Promise<SinkResult> {
    const failedIds: string[] = [];
    const problems = new Set<string>();
    const entries = records
      .map((record): Entry => {
        const message = JSON.stringify(record);
        const time = Date.parse(record.time);
        return {
          id: record.id,
          event: { timestamp: Number.isNaN(time) ? Date.now() : time, message },
          bytes: Buffer.byteLength(message) + EVENT_OVERHEAD,
        };
      })
      .sort((a, b) => (a.event.timestamp ?? 0) - (b.event.timestamp ?? 0));
    const deliverable = entries.filter((e) => {
      if (e.bytes - EVENT_OVERHEAD <= MAX_EVENT_BYTES) return true;
      failedIds.push(e.id);
      problems.add('RecordTooLarge');
      return false;
    });
    const batches = batchesWithin(
      deliverable,
      limits,
      (e) => e.bytes,
      (first, e) => (e.event.timestamp ?? 0) - (first.event.timestamp ?? 0) > MAX_SPAN_MS,
    );
    for (const batch of batches) {
      try {
        const out = await this.putWithStream(batch.map((e) => e.event));
        for (const index of rejectedIndexes(out, batch.length)) {
          failedIds.push((batch[index] as Entry).id);
          problems.add('LogEventsRejected');
        }
      } catch (error) {
        // A refused call fails every record of it.
        failedIds.push(...batch.map((e) => e.id));
        problems.add(errorName(error));
      }
    }
    return { failedIds, problems: [...problems] };
  }

  private async putWithStream(logEvents: InputLogEvent[]): Promise<PutLogEventsCommandOutput> {
    const put = () =>
      this.client.send(
        new PutLogEventsCommand({
          logGroupName: this.logGroupName,
          logStreamName: this.logStreamName,
          logEvents,
        }),
      );
    try {
      return await put();
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
    try {
      await this.client.send(
        new CreateLogStreamCommand({ logGroupName: this.logGroupName, logStreamName: this.logStreamName }),
      );
    } catch (error) {
      // Another container may have created it meanwhile.
      if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
    }
    return put();
  }
}

/** The events of a call that did not land (too new, too old, or past the group's retention). */
function rejectedIndexes(out: PutLogEventsCommandOutput, count: number): number[] {
  const info = out.rejectedLogEventsInfo;
  if (!info) return [];
  const rejected: number[] = [];
  for (let i = 0; i < count; i++) {
    const tooNew = info.tooNewLogEventStartIndex !== undefined && i >= info.tooNewLogEventStartIndex;
    const tooOld = info.tooOldLogEventEndIndex !== undefined && i < info.tooOldLogEventEndIndex;
    const expired = info.expiredLogEventEndIndex !== undefined && i < info.expiredLogEventEndIndex;
    if (tooNew || tooOld || expired) rejected.push(i);
  }
  return rejected;
}
