import { renameSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { errorName } from '../audit/ship.ts';

/** Where reading a stream stands: per shard, the last sequence number handled. */
export interface StreamCheckpoint {
  streamArn: string;
  shards: Record<string, string>;
}

/** Where a reader keeps its checkpoint. */
export interface CheckpointStore {
  /** The saved checkpoint when it is of this stream, else a fresh one (read from the oldest record). */
  load(streamArn: string): StreamCheckpoint;
  /** Called after the reader moved the checkpoint. */
  save(checkpoint: StreamCheckpoint): void;
}

/** What was made of a batch: checkpointed up to `last`; with `retry`, read again after it. */
export interface BatchOutcome {
  readonly last?: string | undefined;
  readonly retry: boolean;
}

/** Handles the records of one GetRecords call, in the shape Lambda hands stream functions. */
export type BatchHandler = (records: DynamoDBRecord[]) => Promise<BatchOutcome>;

export interface StreamReaderOptions {
  readonly tableName: string;
  readonly checkpoints: CheckpointStore;
  /** A checkpoint older than the stream keeps (TrimmedDataAccessException): go on from the oldest record. */
  readonly resumeAfterTrim?: boolean;
  /** Read every shard even when one fails, then throw the first failure. Otherwise stop at it. */
  readonly isolateShards?: boolean;
}

/** The clients for DynamoDB Local and its streams. */
export function localStreamClients(endpoint: string): {
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
} {
  const clientOptions = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  return { dynamo: new DynamoDBClient(clientOptions), streams: new DynamoDBStreamsClient(clientOptions) };
}

/** Replaced whole (write, then rename, 0600), so a crash never leaves half a checkpoint. */
export function writeJsonFile(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Look for new shards (DynamoDB rolls them over) every this many polls. */
const DESCRIBE_EVERY = 20;

/**
 * Local mode's stand-in for a Lambda event source mapping: one table's stream
 * on DynamoDB Local, read shard by shard after the checkpoint, else from the
 * oldest record the stream holds (TRIM_HORIZON: starting at LATEST would lose
 * what was written before the first poll; starting early only repeats records,
 * which consumers drop by id).
 */
export class DynamoDbStreamReader {
  private checkpoint: StreamCheckpoint | undefined;
  /** Open shards, with the iterator of the next read (undefined: get one from the checkpoint). */
  private readonly iterators = new Map<string, string | undefined>();
  private readonly finished = new Set<string>();
  private polls = 0;

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly streams: DynamoDBStreamsClient,
    private readonly options: StreamReaderOptions,
  ) {}

  /** One GetRecords per open shard, each batch handed to `handle`. */
  async poll(handle: BatchHandler): Promise<void> {
    try {
      if (!this.checkpoint) {
        const { tableName } = this.options;
        const table = await this.dynamo.send(new DescribeTableCommand({ TableName: tableName }));
        const streamArn = table.Table?.LatestStreamArn;
        if (!streamArn) throw new Error(`Table ${tableName} has no stream`);
        this.checkpoint = this.options.checkpoints.load(streamArn);
      }
      const cp = this.checkpoint;
      if (this.polls++ % DESCRIBE_EVERY === 0 || this.iterators.size === 0) await this.findShards(cp);
      const problems: unknown[] = [];
      for (const shardId of [...this.iterators.keys()]) {
        const reading = this.readShard(cp, shardId, handle);
        // With isolateShards, one shard's trouble does not hold up the others.
        if (this.options.isolateShards) await reading.catch((error: unknown) => problems.push(error));
        else await reading;
      }
      if (problems.length > 0) throw problems[0];
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') this.checkpoint = undefined;
      throw error;
    }
  }

  private async findShards(cp: StreamCheckpoint): Promise<void> {
    const live = new Set<string>();
    let start: string | undefined;
    do {
      const out = await this.streams.send(
        new DescribeStreamCommand({
          StreamArn: cp.streamArn,
          ...(start && { ExclusiveStartShardId: start }),
        }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId) continue;
        live.add(shard.ShardId);
        if (!this.finished.has(shard.ShardId) && !this.iterators.has(shard.ShardId)) {
          this.iterators.set(shard.ShardId, undefined);
        }
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    // Shards trimmed from the stream need no checkpoint any more.
    for (const shardId of Object.keys(cp.shards)) if (!live.has(shardId)) delete cp.shards[shardId];
  }

  private async readShard(cp: StreamCheckpoint, shardId: string, handle: BatchHandler): Promise<void> {
    let iterator = this.iterators.get(shardId);
    if (!iterator) {
      const after = cp.shards[shardId];
      iterator = await this.shardIterator(cp.streamArn, shardId, after).catch((error: unknown) => {
        // Stopped for longer than the stream keeps records: go on from the oldest it still has.
        if (!this.options.resumeAfterTrim || !after || errorName(error) !== 'TrimmedDataAccessException')
          throw error;
        return this.shardIterator(cp.streamArn, shardId, undefined);
      });
    }
    let out: GetRecordsCommandOutput;
    try {
      out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    } catch (error) {
      // An expired iterator (15 minutes) or trimmed data: start again from the checkpoint.
      this.iterators.set(shardId, undefined);
      throw error;
    }
    const records = out.Records ?? [];
    if (records.length > 0) {
      const { last, retry } = await handle(records.map((r) => lambdaRecord(r, cp.streamArn)));
      if (last) {
        cp.shards[shardId] = last;
        this.options.checkpoints.save(cp);
      }
      if (retry) {
        this.iterators.set(shardId, undefined); // read again after the checkpoint
        return;
      }
    }
    if (out.NextShardIterator) this.iterators.set(shardId, out.NextShardIterator);
    else {
      // A closed shard, read to its end; its children carry on.
      this.iterators.delete(shardId);
      this.finished.add(shardId);
    }
  }

  /** After the given sequence number, or from the oldest record the shard holds. */
  private async shardIterator(
    streamArn: string,
    shardId: string,
    after: string | undefined,
  ): Promise<string> {
    const out = await this.streams.send(
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
}

/** The shape Lambda hands stream functions: the SDK gives times as Dates (and binary as bytes). */
function lambdaRecord(r: SdkStreamRecord, streamArn: string): DynamoDBRecord {
  type Image = NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  return {
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
      // Consumers read attributes by type (S, N, M...); binary stays the SDK's bytes, not Lambda's base64.
      Keys: r.dynamodb?.Keys as Image,
      OldImage: r.dynamodb?.OldImage as Image,
      NewImage: r.dynamodb?.NewImage as Image,
    },
  };
}
