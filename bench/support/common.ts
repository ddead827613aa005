/**
 * What the benchmarks share: a DynamoDB Local (run-all's, through
 * ARCA_BENCH_DYNAMODB_ENDPOINT, a fresh one per benchmark; else one of their
 * own, in memory), latency
 * statistics, tables and the one `BENCH_JSON {...}` line run-all collects.
 */
import { type Agent, request } from 'node:https';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocal, startDynamoDbLocal } from '#lib/local/dynamodb-local.ts';

export const BENCH_JSON_PREFIX = 'BENCH_JSON ';
/** The one line bench/support/serve-vault.ts prints once its gateway is up. */
export const SERVE_VAULT_PREFIX = 'SERVE_VAULT ';

/** run-all's DynamoDB Local when it passes one (not stopped here), else a fresh in-memory one stopped by `stop()`. */
export async function benchDynamoDb(): Promise<DynamoDbLocal & { shared: boolean }> {
  const endpoint = process.env.ARCA_BENCH_DYNAMODB_ENDPOINT;
  if (endpoint) return { endpoint, shared: true, stop: async () => undefined };
  const local = await startDynamoDbLocal();
  return { ...local, shared: false };
}

/** A client configured the way lib/runtime/container.ts configures it for DynamoDB Local. */
export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export interface LatencyStats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentiles, in milliseconds. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    n: sorted.length,
    p50: rank(0.5) ?? Number.NaN,
    p99: rank(0.99) ?? Number.NaN,
    mean: sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits));
export const ms = (x: number) => `${x.toFixed(3)} ms`;
export const ratio = (x: number) => `${x.toFixed(2)}×`;
export const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

/** A plain text table: first row is the header. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = cells;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function machine() {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
}

export function printBenchJson(name: string, figures: Record<string, unknown>): void {
  console.log(`${BENCH_JSON_PREFIX}${JSON.stringify({ bench: name, machine: machine(), ...figures })}`);
}

export interface HttpsAnswer {
  status: number;
  text: string;
}

/** One HTTPS call on a keep-alive agent; the body is read whole. */
export function httpsCall(
  agent: Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * Warms every reader up, then measures them in interleaved blocks whose order
 * alternates (even blocks in `order`, odd blocks reversed), so drift in a
 * shared, noisy machine falls on every reader alike.
 */
export async function measureInterleaved<K extends string>(
  order: readonly K[],
  readers: Record<K, () => Promise<number>>,
  plan: { warmUp: number; blocks: number; blockSize: number },
): Promise<{ samples: Record<K, number[]>; stats: Record<K, LatencyStats>; seconds: number }> {
  for (const kind of order) for (let i = 0; i < plan.warmUp; i++) await readers[kind]();
  const samples = Object.fromEntries(order.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const started = performance.now();
  for (let block = 0; block < plan.blocks; block++) {
    const sequence = block % 2 === 0 ? order : [...order].reverse();
    for (const kind of sequence)
      for (let i = 0; i < plan.blockSize; i++) samples[kind].push(await readers[kind]());
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = Object.fromEntries(order.map((k) => [k, latencyStats(samples[k])])) as Record<
    K,
    LatencyStats
  >;
  return { samples, stats, seconds };
}

export interface ThroughputStats extends LatencyStats {
  /** Operations completed per second of wall time, over every round of this kind. */
  readonly opsPerSecond: number;
  /** Wall time spent on this kind, in seconds. */
  readonly seconds: number;
}

/**
 * Throughput with `concurrency` operations in flight: for each kind, `roundSize`
 * operations are shared by `concurrency` workers (each starts the next as its
 * last ends) and the round's wall time is taken. Kinds are run one at a time,
 * in rounds whose order alternates, after a warm-up round at the same
 * concurrency. Each operation returns its own latency (ms).
 */
export async function measureConcurrent<K extends string>(
  order: readonly K[],
  operations: Record<K, () => Promise<number>>,
  plan: { concurrency: number; warmUp: number; rounds: number; roundSize: number },
): Promise<Record<K, ThroughputStats>> {
  const round = async (kind: K, count: number, into?: number[]) => {
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < count) {
        next++;
        const elapsed = await operations[kind]();
        into?.push(elapsed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(plan.concurrency, count) }, worker));
    return (performance.now() - t0) / 1000;
  };
  for (const kind of order) await round(kind, plan.warmUp);
  const samples = Object.fromEntries(order.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const seconds = Object.fromEntries(order.map((k) => [k, 0])) as Record<K, number>;
  for (let r = 0; r < plan.rounds; r++) {
    const sequence = r % 2 === 0 ? order : [...order].reverse();
    for (const kind of sequence) seconds[kind] += await round(kind, plan.roundSize, samples[kind]);
  }
  return Object.fromEntries(
    order.map((k) => [
      k,
      { ...latencyStats(samples[k]), opsPerSecond: samples[k].length / seconds[k], seconds: seconds[k] },
    ]),
  ) as Record<K, ThroughputStats>;
}
