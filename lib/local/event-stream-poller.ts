import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expirySweepOver } from '../events/expiry-sweep.ts';
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
import type { EventPublisher, VaultUrl } from '../events/vault-events.ts';
import { DynamoExpiryIndex } from '../store/dynamo-expiry-index.ts';
import { DynamoKeyStore } from '../store/dynamo-key-store.ts';
import {
  type BatchOutcome,
  type CheckpointStore,
  DynamoDbStreamReader,
  localStreamClients,
  type StreamCheckpoint,
  writeJsonFile,
} from './dynamodb-stream-reader.ts';

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
  /** The key rotation sweep (lib/local/key-rotation-timer.ts), run on the expiry sweep's timer. */
  readonly keyRotation?: () => Promise<{ readonly failed: readonly { readonly problem: string }[] }>;
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
 * mappers as functions/events/*, and runs the expiry sweep (and, when
 * given, the key rotation sweep) on a timer (at start, then every
 * sweepIntervalMs). Events go to `{dataDir}/events.jsonl`
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
  const { dynamo, streams } = localStreamClients(options.endpoint);
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
  const streamOf = (tableName: string, map: (records: StreamRecordLike[]) => RecordEvents[]) => {
    const reader = new DynamoDbStreamReader(dynamo, streams, {
      tableName,
      checkpoints: checkpoints.of(tableName),
    });
    return () => reader.poll((records) => publishBatch(tableName, map(records), publisher));
  };
  const polls = [
    streamOf(options.tableName, (records) => tableStreamEvents(records, options.vaultUrl)),
    streamOf(options.auditTableName, auditStreamEvents),
  ];
  const sweep = expirySweepOver(
    new DynamoExpiryIndex(dynamo, options.tableName),
    publisher,
    options.vaultUrl,
    new DynamoKeyStore(dynamo, options.tableName),
  );

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
    for (const poll of polls) await poll();
  });
  every(options.sweepIntervalMs ?? 60_000, 'expiry sweep', async () => {
    const result = await sweep();
    if (result.failed.length > 0)
      throw Object.assign(new Error('unpublished'), { name: 'EventsNotPublished' });
  });
  const { keyRotation } = options;
  if (keyRotation) {
    every(options.sweepIntervalMs ?? 60_000, 'key rotation sweep', async () => {
      const result = await keyRotation();
      // Named by the first problem, so a lasting failure is logged once, not every sweep.
      const first = result.failed[0];
      if (first) throw Object.assign(new Error('not rotated'), { name: first.problem });
    });
  }

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

/** Per table, where reading its stream stands: one file, for both streams. */
class CheckpointFile {
  private readonly all: Record<string, StreamCheckpoint>;

  constructor(private readonly path: string) {
    try {
      this.all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, StreamCheckpoint>;
    } catch {
      this.all = {}; // none yet: start from what the streams hold
    }
  }

  of(table: string): CheckpointStore {
    return {
      load: (streamArn) => {
        const saved = this.all[table];
        if (saved?.streamArn === streamArn && typeof saved.shards === 'object') return saved;
        const fresh = { streamArn, shards: {} };
        this.all[table] = fresh;
        return fresh;
      },
      save: () => writeJsonFile(this.path, this.all),
    };
  }
}

/**
 * Publishes the events of a batch of stream records. A record that cannot be
 * read is logged and passed; the checkpoint stops before the first record
 * with an undelivered event, and the shard is read again from it.
 */
async function publishBatch(
  table: string,
  batch: RecordEvents[],
  publisher: EventPublisher,
): Promise<BatchOutcome> {
  for (const r of batch.filter((b) => b.unreadable)) {
    console.error(
      JSON.stringify({
        level: 'warn',
        msg: 'stream record not readable; passed',
        table,
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
  return { last: batch[end - 1]?.sequenceNumber, retry: firstFailed !== undefined };
}
