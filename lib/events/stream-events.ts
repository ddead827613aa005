import type { AuditRecord } from '../audit/audit-record.ts';
import {
  type EventPublisher,
  eventsFromAuditRecord,
  eventsFromTableChange,
  type StreamImage,
  type VaultEvent,
  type VaultUrl,
} from './vault-events.ts';

/** A stream record as Lambda hands it, or as the local poller rebuilds it from the SDK's. */
export interface StreamRecordLike {
  readonly eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | undefined;
  readonly dynamodb?:
    | {
        readonly SequenceNumber?: string | undefined;
        /** Unix seconds. */
        readonly ApproximateCreationDateTime?: number | undefined;
        readonly OldImage?: StreamImage | undefined;
        readonly NewImage?: StreamImage | undefined;
      }
    | undefined;
}

/** The events of one stream record, or why it could not be read. */
export interface RecordEvents {
  readonly sequenceNumber: string;
  readonly events: readonly VaultEvent[];
  /** Set when the record could not be mapped: an error name, never its contents. */
  readonly unreadable?: string;
}

/** The main table's stream, mapped record by record. */
export function tableStreamEvents(records: readonly StreamRecordLike[], vaultUrl: VaultUrl): RecordEvents[] {
  return records.map((r) => {
    const sequenceNumber = r.dynamodb?.SequenceNumber ?? '';
    if (!r.eventName) return { sequenceNumber, events: [], unreadable: 'NoEventName' };
    try {
      const events = eventsFromTableChange(
        {
          eventName: r.eventName,
          oldImage: r.dynamodb?.OldImage,
          newImage: r.dynamodb?.NewImage,
          sequenceNumber,
          time: timeOf(r),
        },
        vaultUrl,
      );
      return { sequenceNumber, events };
    } catch (error) {
      return { sequenceNumber, events: [], unreadable: errorName(error) };
    }
  });
}

/** The audit table's stream: AccessDenied for refused requests. REMOVEs are TTL expiry, not requests. */
export function auditStreamEvents(records: readonly StreamRecordLike[]): RecordEvents[] {
  return records.map((r) => {
    const sequenceNumber = r.dynamodb?.SequenceNumber ?? '';
    if (r.eventName === 'REMOVE') return { sequenceNumber, events: [] };
    const json = r.dynamodb?.NewImage?.record?.S;
    try {
      const record = JSON.parse(json ?? '') as AuditRecord;
      if (typeof record?.id !== 'string' || typeof record.properties?.httpStatusCode !== 'number') {
        return { sequenceNumber, events: [], unreadable: 'NoAuditRecord' };
      }
      return { sequenceNumber, events: eventsFromAuditRecord(record) };
    } catch (error) {
      return { sequenceNumber, events: [], unreadable: errorName(error) };
    }
  });
}

export interface BatchOutcome {
  /** Sequence numbers of records with an undelivered event or no readable content, in stream order. */
  readonly failedSequenceNumbers: string[];
  readonly published: number;
  readonly problems: string[];
}

/**
 * Publishes a batch's events and names every record one of whose events was
 * not delivered (or which could not be read), so the stream is read again
 * from the first of them. Events after it are published again then, with
 * the same ids.
 */
export async function publishRecordEvents(
  batch: readonly RecordEvents[],
  publisher: EventPublisher,
): Promise<BatchOutcome> {
  const events = batch.flatMap((r) => r.events);
  const result = events.length > 0 ? await publishSafely(publisher, events) : { failedIds: [] };
  const failed = new Set(result.failedIds);
  const failedSequenceNumbers = batch
    .filter((r) => r.unreadable || r.events.some((e) => failed.has(e.id)))
    .map((r) => r.sequenceNumber);
  const problems = [
    ...new Set([
      ...(result.problems ?? []),
      ...batch.flatMap((r) => (r.unreadable ? [`unreadable: ${r.unreadable}`] : [])),
    ]),
  ];
  return { failedSequenceNumbers, published: events.length - failed.size, problems };
}

async function publishSafely(publisher: EventPublisher, events: readonly VaultEvent[]) {
  try {
    return await publisher.publish(events);
  } catch (error) {
    return { failedIds: events.map((e) => e.id), problems: [`${publisher.name}: ${errorName(error)}`] };
  }
}

function timeOf(r: StreamRecordLike): number | undefined {
  const t = r.dynamodb?.ApproximateCreationDateTime;
  return t === undefined ? undefined : Math.floor(t);
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}
