import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { errorName, MalformedAuditImageError, recordsFromStream, shipStreamBatch } from '../audit/ship.ts';
import { JsonLinesFileSink } from '../audit/sinks/jsonl-file-sink.ts';

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

/** What has been shipped: per shard, the last sequence number delivered. */
interface Checkpoint {
  streamArn: string;
  shards: Record<string, string>;
}

/** Look for new shards (DynamoDB rolls them over) every this many polls. */
const DESCRIBE_EVERY = 20;

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
  const clientOptions = {
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamo = new DynamoDBClient(clientOptions);
  const streams = new DynamoDBStreamsClient(clientOptions);
  const sink = new JsonLinesFileSink({
    path: join(options.dataDir, 'audit.jsonl'),
    ...(options.stdout && { echo: process.stdout }),
  });
  const checkpointPath = join(options.dataDir, 'audit-stream-checkpoint.json');

  let checkpoint: Checkpoint | undefined;
  /** Open shards being read, with the iterator of the next read (undefined: get one from the checkpoint). */
  const iterators = new Map<string, string | undefined>();
  const finished = new Set<string>();
  let polls = 0;
  let lastProblem = '';
  let troubled = false;

  async function poll(): Promise<void> {
    if (!checkpoint) {
      const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
      const streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);
      const saved = readCheckpoint(checkpointPath);
      checkpoint = saved?.streamArn === streamArn ? saved : { streamArn, shards: {} };
    }
    if (polls++ % DESCRIBE_EVERY === 0 || iterators.size === 0) await findShards(checkpoint);
    const problems: unknown[] = [];
    for (const shardId of [...iterators.keys()]) {
      // One shard's trouble does not hold up the others.
      await readShard(checkpoint, shardId).catch((error: unknown) => problems.push(error));
    }
    if (problems.length > 0) throw problems[0];
  }

  async function findShards(cp: Checkpoint): Promise<void> {
    const live = new Set<string>();
    let start: string | undefined;
    do {
      const out = await streams.send(
        new DescribeStreamCommand({
          StreamArn: cp.streamArn,
          ...(start && { ExclusiveStartShardId: start }),
        }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId) continue;
        live.add(shard.ShardId);
        if (!finished.has(shard.ShardId) && !iterators.has(shard.ShardId))
          iterators.set(shard.ShardId, undefined);
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    // Shards trimmed from the stream need no checkpoint any more.
    for (const shardId of Object.keys(cp.shards)) if (!live.has(shardId)) delete cp.shards[shardId];
  }

  async function readShard(cp: Checkpoint, shardId: string): Promise<void> {
    let iterator = iterators.get(shardId);
    if (!iterator) {
      const after = cp.shards[shardId];
      iterator = await shardIterator(cp.streamArn, shardId, after).catch((error: unknown) => {
        // Stopped for longer than the stream keeps records: go on from the oldest it still has.
        if (!after || errorName(error) !== 'TrimmedDataAccessException') throw error;
        return shardIterator(cp.streamArn, shardId, undefined);
      });
    }
    let out: Awaited<ReturnType<typeof getRecords>>;
    try {
      out = await getRecords(iterator);
    } catch (error) {
      // An expired iterator (15 minutes) or trimmed data: start again from the checkpoint.
      iterators.set(shardId, undefined);
      throw error;
    }
    const records = out.Records ?? [];
    if (records.length > 0 && !(await shipRecords(cp, shardId, records))) {
      iterators.set(shardId, undefined); // read again after the checkpoint
      return;
    }
    if (out.NextShardIterator) {
      iterators.set(shardId, out.NextShardIterator);
    } else {
      // A closed shard, read to its end; its children carry on.
      iterators.delete(shardId);
      finished.add(shardId);
    }
  }

  /**
   * Ships records read from a shard and checkpoints the shard up to the last
   * one delivered. False when some were not: the shard is read again after the
   * checkpoint. An image that holds no audit record (a bug) would otherwise
   * stop the shard for good, and locally there is no on-failure queue: it is
   * logged by sequence number and passed over; its item stays in the table.
   */
  async function shipRecords(cp: Checkpoint, shardId: string, records: StreamRecord[]): Promise<boolean> {
    let batch = records;
    let unreadable: string | undefined;
    try {
      recordsFromStream(streamEvent(records, cp.streamArn));
    } catch (error) {
      if (!(error instanceof MalformedAuditImageError)) throw error;
      unreadable = error.sequenceNumber;
      batch = records.slice(
        0,
        records.findIndex((r) => r.dynamodb?.SequenceNumber === unreadable),
      );
    }
    const { batchItemFailures, problems } = await shipStreamBatch(streamEvent(batch, cp.streamArn), [sink]);
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
    if (last) {
      cp.shards[shardId] = last;
      writeCheckpoint(checkpointPath, cp);
    }
    return firstFailed === -1 && !unreadable;
  }

  /** After the given sequence number, or from the oldest record the shard holds. */
  async function shardIterator(
    streamArn: string,
    shardId: string,
    after: string | undefined,
  ): Promise<string> {
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
        ...(after && { SequenceNumber: after }),
      }),
    );
    if (!out.ShardIterator) throw new Error(`No iterator for shard ${shardId}`);
    return out.ShardIterator;
  }

  function getRecords(iterator: string) {
    return streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
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
      await poll();
      if (!troubled) lastProblem = ''; // recovered: the next trouble is news again
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') checkpoint = undefined;
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

/** The shape Lambda hands functions/streams/audit-ship.ts. */
function streamEvent(records: StreamRecord[], streamArn: string): DynamoDBStreamEvent {
  return {
    Records: records.map(
      (r): DynamoDBRecord => ({
        eventID: r.eventID,
        eventName: r.eventName,
        eventVersion: r.eventVersion,
        eventSource: r.eventSource,
        awsRegion: r.awsRegion,
        eventSourceARN: streamArn,
        dynamodb: {
          SequenceNumber: r.dynamodb?.SequenceNumber,
          SizeBytes: r.dynamodb?.SizeBytes,
          StreamViewType: r.dynamodb?.StreamViewType,
          ...(r.dynamodb?.ApproximateCreationDateTime && {
            ApproximateCreationDateTime: r.dynamodb.ApproximateCreationDateTime.getTime() / 1000,
          }),
          // Only string attributes are read (record.S); the SDK's binary type differs from Lambda's.
          Keys: r.dynamodb?.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
          NewImage: r.dynamodb?.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
        },
      }),
    ),
  };
}

function readCheckpoint(path: string): Checkpoint | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Checkpoint>;
    if (typeof parsed.streamArn !== 'string' || typeof parsed.shards !== 'object' || !parsed.shards)
      return undefined;
    return { streamArn: parsed.streamArn, shards: { ...parsed.shards } };
  } catch {
    return undefined; // none yet (or unreadable): start from what the stream holds
  }
}

/** Replaced whole (write, then rename), so a crash never leaves half a checkpoint. */
function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
