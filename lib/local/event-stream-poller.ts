import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { makeExpirySweep } from '../events/expiry-sweep.ts';
import { JsonLinesEventSink } from '../events/publishers/jsonl-event-sink.ts';
import { ensureWebhookSigningKey, WebhookPublisher } from '../events/publishers/webhook-publisher.ts';
import {
  auditStreamEvents,
  errorName,
  publishRecordEvents,
  type RecordEvents,
  type StreamRecordLike,
  tableStreamEvents,
} from '../events/stream-events.ts';
import type { EventPublisher, StreamImage, VaultUrl } from '../events/vault-events.ts';
import { DynamoExpiryIndex } from '../store/dynamo-expiry-index.ts';

export interface EventPipelineOptions {
  /** DynamoDB Local. */
  readonly endpoint: string;
  /** The main table: its stream, its expiry index, and the sweep's markers. */
  readonly tableName: string;
  /** The audit table, whose stream gives AccessDenied. */
  readonly auditTableName: string;
  /** Receives events.jsonl, the webhook signing key and the stream checkpoint. */
  readonly dataDir: string;
  readonly vaultUrl: VaultUrl;
  /** ARCA_EVENTS_WEBHOOK_URL, when set. */
  readonly webhookUrl?: string;
  /** ARCA_SWEEP_INTERVAL_MS. @default 60000 */
  readonly sweepIntervalMs?: number;
  /** @default 500 */
  readonly pollIntervalMs?: number;
}

/** ARCA_SWEEP_INTERVAL_MS: whole milliseconds, at least 1000; default 60000. Fails loudly otherwise. */
export function sweepIntervalFrom(env: Record<string, string | undefined>): number {
  const raw = env.ARCA_SWEEP_INTERVAL_MS?.trim();
  if (!raw) return 60_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1_000) {
    throw new Error('ARCA_SWEEP_INTERVAL_MS must be an integer of at least 1000');
  }
  return value;
}

/**
 * Local mode's stand-in for the event functions: polls the streams of the
 * main table and of the audit table on DynamoDB Local through the same
 * mappers as functions/events/*, and runs the expiry sweep on a timer
 * (at start, then every sweepIntervalMs). Events go to `{dataDir}/events.jsonl`
 * (0600) and, when a webhook is configured, to it.
 *
 * The file is the record: an event it did not take is read again from the
 * stream. The webhook is best effort: an event it refuses after its retries
 * is logged by id and not sent again, so a receiver that is down never holds
 * up the file. A record that cannot be read at all is logged (by sequence
 * number) and passed, where Lambda would retry it and then park it in the
 * on-failure queue.
 */
export function startEventPipeline(options: EventPipelineOptions): { stop(): Promise<void> } {
  const clientOptions = {
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamo = new DynamoDBClient(clientOptions);
  const streams = new DynamoDBStreamsClient(clientOptions);
  const file = new JsonLinesEventSink(options.dataDir);
  const webhook = options.webhookUrl
    ? new WebhookPublisher({ url: options.webhookUrl, signingKey: ensureWebhookSigningKey(options.dataDir) })
    : undefined;
  const publisher: EventPublisher = {
    name: 'local',
    async publish(events) {
      const result = await file.publish(events);
      const failed = new Set(result.failedIds);
      // The webhook logs what it could not deliver; only the file's failures are retried.
      if (webhook) await webhook.publish(events.filter((e) => !failed.has(e.id)));
      return result;
    },
  };

  const checkpoints = new CheckpointFile(join(options.dataDir, 'events-stream-checkpoint.json'));
  const readers = [
    new StreamReader(dynamo, streams, options.tableName, checkpoints, (records) =>
      tableStreamEvents(records, options.vaultUrl),
    ),
    new StreamReader(dynamo, streams, options.auditTableName, checkpoints, auditStreamEvents),
  ];
  const index = new DynamoExpiryIndex(dynamo, options.tableName);
  const sweep = makeExpirySweep({
    queryExpiring: (from, to) => index.queryExpiring(from, to),
    notifiedAmong: (keys) => index.notifiedAmong(keys),
    markNotified: (key) => index.markNotified(key),
    forgetNotified: (key) => index.forgetNotified(key),
    publish: (events) => publisher.publish(events),
    now: Date.now,
    vaultUrl: options.vaultUrl,
  });

  const problems = new Map<string, string>();
  /** Once per kind of failure, not every poll; names only, never a record. */
  const warn = (what: string, error: unknown) => {
    const problem = errorName(error);
    if (problems.get(what) === problem) return;
    problems.set(what, problem);
    console.error(JSON.stringify({ level: 'warn', msg: `${what} failed; retrying`, problem }));
  };

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const every = (ms: number, what: string, work: () => Promise<void>) => {
    const run = async () => {
      try {
        await work();
        problems.delete(what);
      } catch (error) {
        warn(what, error);
      }
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        track(run());
      }, ms);
      timer.unref();
      timers.add(timer);
    };
    track(run());
  };
  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  every(options.pollIntervalMs ?? 500, 'event stream poll', async () => {
    for (const reader of readers) await reader.poll(publisher);
  });
  every(options.sweepIntervalMs ?? 60_000, 'expiry sweep', async () => {
    const result = await sweep();
    if (result.failed.length > 0)
      throw Object.assign(new Error('unpublished'), { name: 'EventsNotPublished' });
  });

  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      while (running.size > 0) await Promise.allSettled([...running]);
      dynamo.destroy();
      streams.destroy();
    },
  };
}

interface Checkpoint {
  streamArn: string;
  /** Per shard, the last sequence number handled. */
  shards: Record<string, string>;
}

/** Per table, where reading stands; replaced whole (write, then rename), so a crash never leaves half. */
class CheckpointFile {
  private all: Record<string, Checkpoint>;

  constructor(private readonly path: string) {
    try {
      this.all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Checkpoint>;
    } catch {
      this.all = {}; // none yet: start from what the streams hold
    }
  }

  get(table: string, streamArn: string): Checkpoint {
    const saved = this.all[table];
    if (saved?.streamArn === streamArn && typeof saved.shards === 'object') return saved;
    const fresh = { streamArn, shards: {} };
    this.all[table] = fresh;
    return fresh;
  }

  save(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.all)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

/** Look for new shards (DynamoDB rolls them over) every this many polls. */
const DESCRIBE_EVERY = 20;

/**
 * One table's stream, read shard by shard from the checkpoint, else from the
 * oldest record the stream holds (TRIM_HORIZON: starting at LATEST would lose
 * what was written before the first poll; starting early only repeats events,
 * with the same ids).
 */
class StreamReader {
  private checkpoint: Checkpoint | undefined;
  /** Open shards, with the iterator of the next read (undefined: get one from the checkpoint). */
  private readonly iterators = new Map<string, string | undefined>();
  private readonly finished = new Set<string>();
  private polls = 0;

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly streams: DynamoDBStreamsClient,
    private readonly tableName: string,
    private readonly checkpoints: CheckpointFile,
    private readonly map: (records: StreamRecordLike[]) => RecordEvents[],
  ) {}

  async poll(publisher: EventPublisher): Promise<void> {
    try {
      if (!this.checkpoint) {
        const table = await this.dynamo.send(new DescribeTableCommand({ TableName: this.tableName }));
        const streamArn = table.Table?.LatestStreamArn;
        if (!streamArn) throw new Error(`Table ${this.tableName} has no stream`);
        this.checkpoint = this.checkpoints.get(this.tableName, streamArn);
      }
      if (this.polls++ % DESCRIBE_EVERY === 0 || this.iterators.size === 0)
        await this.findShards(this.checkpoint);
      for (const shardId of [...this.iterators.keys()])
        await this.readShard(this.checkpoint, shardId, publisher);
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') this.checkpoint = undefined;
      throw error;
    }
  }

  private async findShards(cp: Checkpoint): Promise<void> {
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
    for (const shardId of Object.keys(cp.shards)) if (!live.has(shardId)) delete cp.shards[shardId];
  }

  private async readShard(cp: Checkpoint, shardId: string, publisher: EventPublisher): Promise<void> {
    let iterator = this.iterators.get(shardId);
    if (!iterator) {
      const after = cp.shards[shardId];
      const out = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: cp.streamArn,
          ShardId: shardId,
          ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
          ...(after && { SequenceNumber: after }),
        }),
      );
      if (!out.ShardIterator) throw new Error(`No iterator for shard ${shardId}`);
      iterator = out.ShardIterator;
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
      const batch = this.map(records.map(recordLike));
      for (const r of batch.filter((b) => b.unreadable)) {
        console.error(
          JSON.stringify({
            level: 'warn',
            msg: 'stream record not readable; passed',
            table: this.tableName,
            sequenceNumber: r.sequenceNumber,
            problem: r.unreadable,
          }),
        );
      }
      const readable = batch.filter((b) => !b.unreadable);
      const { failedSequenceNumbers } = await publishRecordEvents(readable, publisher);
      const firstFailed = failedSequenceNumbers[0];
      const end =
        firstFailed === undefined ? batch.length : batch.findIndex((b) => b.sequenceNumber === firstFailed);
      const last = batch[end - 1]?.sequenceNumber;
      if (last) {
        cp.shards[shardId] = last;
        this.checkpoints.save();
      }
      if (firstFailed !== undefined) {
        this.iterators.set(shardId, undefined); // read again from the first failure
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
}

/** The shape Lambda hands functions/events/*: the SDK gives binary as bytes and times as Dates. */
function recordLike(r: SdkStreamRecord): StreamRecordLike {
  const created = r.dynamodb?.ApproximateCreationDateTime;
  return {
    eventName: r.eventName,
    dynamodb: {
      SequenceNumber: r.dynamodb?.SequenceNumber,
      ...(created && { ApproximateCreationDateTime: created.getTime() / 1000 }),
      OldImage: r.dynamodb?.OldImage as StreamImage | undefined,
      NewImage: r.dynamodb?.NewImage as StreamImage | undefined,
    },
  };
}
