import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { errorName, MalformedAuditImageError, recordsFromStream, shipStreamBatch } from '../audit/ship.ts';
import { JsonLinesFileSink } from '../audit/sinks/jsonl-file-sink.ts';
import {
  type BatchOutcome,
  DynamoDbStreamReader,
  localStreamClients,
  type StreamCheckpoint,
  writeJsonFile,
} from './dynamodb-stream-reader.ts';

export interface AuditStreamPollerOptions {
  /** DynamoDB Local. */
  readonly endpoint: string;
  /** The audit table, whose stream is read. */
  readonly tableName: string;
  /** Receives audit.jsonl and the checkpoint file. */
  readonly dataDir: string;
  /** Also print each record (ARCA_AUDIT_STDOUT=1). */
  readonly stdout: boolean;
  /** @default 500 */
  readonly intervalMs?: number;
}

/**
 * Local mode's stand-in for the Lambda event source mapping: polls the audit
 * table's stream on DynamoDB Local and ships each batch, through the same
 * shipStreamBatch as functions/streams/audit-ship.ts, to `{dataDir}/audit.jsonl`
 * (0600), and to stdout when asked.
 *
 * Where it starts: after the sequence number checkpointed for a shard in
 * `{dataDir}/audit-stream-checkpoint.json`, else at the oldest record the
 * stream still holds (TRIM_HORIZON, at most 24 hours back). Starting at
 * LATEST would lose whatever was written before the first poll (the default
 * vault's creation, a request racing start-up); starting early only repeats
 * records, which consumers drop by id. A batch with a failed record is
 * checkpointed up to the record before it and read again from it.
 */
export function startAuditStreamPoller(options: AuditStreamPollerOptions): { stop(): Promise<void> } {
  const { dynamo, streams } = localStreamClients(options.endpoint);
  const sink = new JsonLinesFileSink({
    path: join(options.dataDir, 'audit.jsonl'),
    ...(options.stdout && { echo: process.stdout }),
  });
  const checkpointPath = join(options.dataDir, 'audit-stream-checkpoint.json');
  const reader = new DynamoDbStreamReader(dynamo, streams, {
    tableName: options.tableName,
    checkpoints: {
      load(streamArn) {
        const saved = readCheckpoint(checkpointPath);
        return saved?.streamArn === streamArn ? saved : { streamArn, shards: {} };
      },
      save: (checkpoint) => writeJsonFile(checkpointPath, checkpoint),
    },
    resumeAfterTrim: true,
    isolateShards: true,
  });
  let lastProblem = '';
  let troubled = false;

  /**
   * Ships records read from a shard; the reader checkpoints the shard up to the
   * last one delivered. Retried when some were not: the shard is read again
   * after the checkpoint. An image that holds no audit record (a bug) would
   * otherwise stop the shard for good, and locally there is no on-failure
   * queue: it is logged by sequence number and passed over; its item stays in
   * the table.
   */
  async function shipRecords(records: DynamoDBRecord[]): Promise<BatchOutcome> {
    let batch = records;
    let unreadable: string | undefined;
    try {
      recordsFromStream({ Records: records });
    } catch (error) {
      if (!(error instanceof MalformedAuditImageError)) throw error;
      unreadable = error.sequenceNumber;
      batch = records.slice(
        0,
        records.findIndex((r) => r.dynamodb?.SequenceNumber === unreadable),
      );
    }
    const { batchItemFailures, problems } = await shipStreamBatch({ Records: batch }, [sink]);
    if (batchItemFailures.length > 0) warnOnce('audit records not written; retrying', problems?.join(', '));
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    const firstFailed = batch.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
    const shipped = firstFailed === -1 ? batch : batch.slice(0, firstFailed);
    const last = firstFailed === -1 && unreadable ? unreadable : shipped.at(-1)?.dynamodb?.SequenceNumber;
    if (firstFailed === -1 && unreadable) {
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'passed over an unreadable audit stream record',
          sequenceNumber: unreadable,
        }),
      );
    }
    return { last, retry: firstFailed !== -1 || Boolean(unreadable) };
  }

  /** Once per kind of trouble, not every 500 ms; error names only, never a record. */
  function warnOnce(msg: string, problem = 'unknown'): void {
    troubled = true;
    if (`${msg}${problem}` === lastProblem) return;
    lastProblem = `${msg}${problem}`;
    console.error(JSON.stringify({ level: 'warn', msg, problem }));
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = async () => {
    troubled = false;
    try {
      await reader.poll(shipRecords);
      if (!troubled) lastProblem = ''; // recovered: the next trouble is news again
    } catch (error) {
      warnOnce('audit stream poll failed; retrying', errorName(error));
    }
    if (!stopped) {
      timer = setTimeout(() => {
        running = loop();
      }, options.intervalMs ?? 500);
      timer.unref();
    }
  };
  running = loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      dynamo.destroy();
      streams.destroy();
    },
  };
}

/** What has been shipped: per shard, the last sequence number delivered. */
function readCheckpoint(path: string): StreamCheckpoint | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StreamCheckpoint>;
    if (typeof parsed.streamArn !== 'string' || typeof parsed.shards !== 'object' || !parsed.shards)
      return undefined;
    return { streamArn: parsed.streamArn, shards: { ...parsed.shards } };
  } catch {
    return undefined; // none yet (or unreadable): start from what the stream holds
  }
}
