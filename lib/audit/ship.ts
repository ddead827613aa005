import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { AuditRecord } from './audit-record.ts';

/**
 * Where shipped records go (Firehose, CloudWatch Logs, Kinesis; a JSON Lines
 * file locally). A sink reports the ids it could not deliver rather than
 * throwing, and never puts a record's contents in an error or a log line.
 */
export interface AuditSink {
  readonly name: string;
  deliver(records: readonly AuditRecord[]): Promise<SinkResult>;
}

export interface SinkResult {
  readonly failedIds: string[];
  /** Why, as error names or codes only (never messages, which can quote input). */
  readonly problems?: string[];
}

/** One record of a stream batch, with the sequence number Lambda checkpoints by. */
export interface StreamedRecord {
  readonly sequenceNumber: string;
  readonly record: AuditRecord;
}

/**
 * Delivers records to every sink, at least once: a record counts as failed if
 * any sink failed it, and is shipped again (to every sink) on the retry, so
 * consumers drop repeats by `id`. Within a batch a record appears once, in
 * its last image (a record rewritten with its final outcome keeps its id).
 */
export async function shipAuditRecords(
  records: readonly AuditRecord[],
  sinks: readonly AuditSink[],
): Promise<SinkResult> {
  const latest = new Map<string, AuditRecord>();
  for (const record of records) {
    latest.delete(record.id); // re-inserted, so order follows each id's last image
    latest.set(record.id, record);
  }
  const unique = [...latest.values()];
  if (unique.length === 0) return { failedIds: [] };

  const results = await Promise.all(
    sinks.map(async (sink): Promise<SinkResult> => {
      try {
        const result = await sink.deliver(unique);
        return { failedIds: result.failedIds, problems: result.problems?.map((p) => `${sink.name}: ${p}`) };
      } catch (error) {
        return { failedIds: [...latest.keys()], problems: [`${sink.name}: ${errorName(error)}`] };
      }
    }),
  );
  const failed = new Set(results.flatMap((r) => r.failedIds).filter((id) => latest.has(id)));
  const problems = [...new Set(results.flatMap((r) => r.problems ?? []))];
  return { failedIds: [...failed], ...(problems.length > 0 && { problems }) };
}

/** Thrown for a stream image that holds no audit record: a bug, never skipped silently. */
export class MalformedAuditImageError extends Error {
  constructor(readonly sequenceNumber: string) {
    super(`Stream record ${sequenceNumber} holds no readable audit record`);
    this.name = 'MalformedAuditImageError';
  }
}

/**
 * The audit records of a table stream batch, in stream order. REMOVE events
 * (TTL expiry at the end of the hot window) are not records to ship.
 */
export function recordsFromStream(event: DynamoDBStreamEvent): StreamedRecord[] {
  const streamed: StreamedRecord[] = [];
  for (const entry of event.Records) {
    if (entry.eventName === 'REMOVE') continue;
    const sequenceNumber = entry.dynamodb?.SequenceNumber ?? '';
    const json = entry.dynamodb?.NewImage?.record?.S;
    let record: AuditRecord | undefined;
    try {
      record = json === undefined ? undefined : (JSON.parse(json) as AuditRecord);
    } catch {
      record = undefined;
    }
    if (!sequenceNumber || typeof record?.id !== 'string') throw new MalformedAuditImageError(sequenceNumber);
    streamed.push({ sequenceNumber, record });
  }
  return streamed;
}

/**
 * Ships a stream batch and names every stream record whose id failed, so that
 * Lambda (or the local poller) resumes from the first failure: nothing after
 * it is checkpointed, nothing is dropped.
 */
export async function shipStreamBatch(
  event: DynamoDBStreamEvent,
  sinks: readonly AuditSink[],
): Promise<DynamoDBBatchResponse & { problems?: string[] }> {
  const streamed = recordsFromStream(event);
  const { failedIds, problems } = await shipAuditRecords(
    streamed.map((s) => s.record),
    sinks,
  );
  const failed = new Set(failedIds);
  return {
    batchItemFailures: streamed
      .filter((s) => failed.has(s.record.id))
      .map((s) => ({ itemIdentifier: s.sequenceNumber })),
    ...(problems && { problems }),
  };
}

/** What kind of error, never what it says: SDK and system messages can quote input. */
export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return 'UnknownError';
  const code = (error as { code?: unknown }).code;
  return error.name === 'Error' && typeof code === 'string' ? code : error.name;
}
