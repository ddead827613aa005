/**
 * `npm run bench`: runs the benchmarks one after another, each in a process
 * of its own and on a fresh in-memory DynamoDB Local of its own (passed
 * through ARCA_BENCH_DYNAMODB_ENDPOINT; since every request writes an audit
 * record, a shared one slowed each benchmark down by what the ones before it
 * had left in it), then prints a summary of the targets from the
 * `BENCH_JSON` line each prints. Benchmarks report; they never fail on a
 * missed target. Pass benchmark names to run only those.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startDynamoDbLocal } from '#lib/local/dynamodb-local.ts';
import { BENCH_JSON_PREFIX, machine, table, verdict } from './support/common.ts';

const root = join(import.meta.dirname, '..');
const all = ['secret-get-vs-getitem', 'audit-overhead', 'kms-calls', 'bundle-size', 'key-sign'];
const requested = process.argv.slice(2);
const names = requested.length > 0 ? all.filter((n) => requested.includes(n)) : all;

// biome-ignore lint/suspicious/noExplicitAny: each benchmark's own JSON shape, read field by field below
type Figures = Record<string, any>;

function runBench(name: string, endpoint: string): Promise<{ code: number; figures?: Figures }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ARCA_BENCH_DYNAMODB_ENDPOINT: endpoint },
    });
    let figures: Figures | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(line);
      if (line.startsWith(BENCH_JSON_PREFIX)) figures = JSON.parse(line.slice(BENCH_JSON_PREFIX.length));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), figures }));
  });
}

const m = machine();
console.log(`Arca benchmarks: node ${m.node}, ${m.cpus} cores (${m.cpuModel}), ${new Date().toISOString()}`);
console.log('DynamoDB Local timings are never production figures.\n');

const started = Date.now();
const results = new Map<string, Figures>();
let failed = false;
for (const name of names) {
  console.log(`=== ${name} ===`);
  const t0 = Date.now();
  const dynamo = await startDynamoDbLocal();
  let outcome: Awaited<ReturnType<typeof runBench>>;
  try {
    outcome = await runBench(name, dynamo.endpoint);
  } finally {
    await dynamo.stop();
  }
  const { code, figures } = outcome;
  console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  if (code !== 0 || !figures) {
    failed = true;
    console.log(`${name} failed (exit ${code}${figures ? '' : ', no BENCH_JSON line'})\n`);
  } else results.set(name, figures);
}

const rows: string[][] = [['measure', 'figure', 'target', 'result']];
const get = results.get('secret-get-vs-getitem');
if (get) {
  for (const p of ['p50', 'p99'] as const) {
    rows.push([
      `secret GET via gateway / GetItem, ${p}`,
      `${get.ratio[p].toFixed(2)}× (${get.ms.gateway[p].toFixed(2)} / ${get.ms.getItem[p].toFixed(2)} ms)`,
      `≤ ${get.target}×`,
      verdict(get.ratio[p] <= get.target),
    ]);
  }
}
const audit = results.get('audit-overhead');
if (audit) {
  for (const p of ['p50', 'p99'] as const) {
    rows.push([
      `secret GET audit on / audit off, ${p}`,
      `${audit.ratio.onOff[p].toFixed(2)}× (${audit.ms.on[p].toFixed(2)} / ${audit.ms.off[p].toFixed(2)} ms)`,
      `≤ ${audit.target}×`,
      verdict(audit.ratio.onOff[p] <= audit.target),
    ]);
  }
  rows.push([
    'audit on, other process / GetItem, p50 p99',
    `${audit.ratio.onGetItem.p50.toFixed(2)}× ${audit.ratio.onGetItem.p99.toFixed(2)}×`,
    '(info)',
    '-',
  ]);
}
const kms = results.get('kms-calls');
if (kms) {
  for (const s of kms.scenarios.filter((x: Figures) => x.reads >= 1000)) {
    rows.push([
      `KMS calls per 1,000 reads: ${s.label}`,
      s.per1000.toFixed(2),
      s.informational ? '(info)' : `≤ ${kms.target}`,
      s.informational ? '-' : verdict(s.per1000 <= kms.target),
    ]);
  }
}
const bundle = results.get('bundle-size');
if (bundle) {
  rows.push([
    'get-secret bundle bytes / DynamoDB-only',
    `${bundle.bytes.ratio.toFixed(2)}× (${bundle.bytes.getSecret} / ${bundle.bytes.baseline} B)`,
    `≤ ${bundle.target}×`,
    verdict(bundle.met.bytes),
  ]);
  rows.push([
    'get-secret cold import / DynamoDB-only',
    `${bundle.loadMs.ratio.toFixed(2)}× (${bundle.loadMs.getSecret} / ${bundle.loadMs.baseline} ms)`,
    `≤ ${bundle.target}×`,
    verdict(bundle.met.load),
  ]);
}
const keys = results.get('key-sign');
if (keys) {
  for (const s of keys.summary) {
    const [floor, f] = Object.entries(s.floors as Figures)[0] as [string, Figures];
    rows.push([
      `${s.name} sign via gateway / ${floor} (in-process), p50 p99`,
      `${f.ratio.p50.toFixed(2)}× ${f.ratio.p99.toFixed(2)}× (${s.gatewayMs.p50.toFixed(2)} / ${f.ms.p50.toFixed(2)} ms)`,
      '(info)',
      '-',
    ]);
    rows.push([
      `${s.name} sign via gateway, ops/s seq and ${keys.concurrency} in flight / Azure`,
      `${s.azure.sequential.toFixed(2)}× ${s.azure.concurrent.toFixed(2)}× (${s.opsPerSecond.sequential}, ${s.opsPerSecond.concurrent} / ${s.azure.opsPerSecond} ops/s)`,
      '(info)',
      '-',
    ]);
  }
}

console.log('=== summary ===');
console.log(table(rows));
console.log(`\nTotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
