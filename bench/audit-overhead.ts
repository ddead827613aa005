import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { auditItem } from '#lib/store/audit-items.ts';
import { secretPk } from '#lib/store/secret-items.ts';
import { HEAD_SK } from '#lib/store/table-schema.ts';
import {
  benchDynamoDb,
  dynamoClient,
  httpsCall,
  latencyStats,
  measureInterleaved,
  ms,
  printBenchJson,
  ratio,
  round,
  table,
  verdict,
} from './support/common.ts';
import { type GatewayProcess, startGatewayProcess, stopGatewayProcess } from './support/gateway-process.ts';

const API_VERSION = 'api-version=2026-04-01';
const WARM_UP = 200;
const BLOCKS = 10;
const BLOCK_SIZE = 250;
const TARGET = 1.2; // audit on / audit off
const GET_ITEM_TARGET = 1.5; // secret GET / GetItem: gated by secret-get-vs-getitem.ts, shown here for reference
const VAULT = 'dev';
const AUDIT_CHECK_READS = 5;

type Kind = 'on' | 'off' | 'getItem' | 'putAudit' | 'getAndPut';
const LABELS: Record<Kind, string> = {
  on: 'HTTPS GET, audit on',
  off: 'HTTPS GET, audit off',
  getItem: 'raw GetItem (bench process)',
  putAudit: '  raw PutItem of a GET audit record',
  getAndPut: '  raw GetItem ∥ PutItem (Promise.all)',
};
const ORDER: readonly Kind[] = ['on', 'off', 'getItem', 'putAudit', 'getAndPut'];

const dynamo = await benchDynamoDb();
const dataDir = mkdtempSync(join(tmpdir(), 'arca-bench-audit-'));
const tableName = `bench-audit-${randomBytes(4).toString('hex')}`;
const auditTableName = `${tableName}-audit`;
const client = dynamoClient(dynamo.endpoint);
const gateways: GatewayProcess[] = [];
const agents: Agent[] = [];

try {
  // One after the other: the first creates the tables, the data folder's CA, master key, issuer
  // key and dev client; the second finds and uses them.
  const base = { dataDir, dynamoDbEndpoint: dynamo.endpoint, tableName };
  const on = await startGatewayProcess({ ...base, env: {} });
  gateways.push(on);
  const off = await startGatewayProcess({ ...base, env: { ARCA_AUDIT: 'off' } });
  gateways.push(off);
  if (on.served.audit !== 'on' || off.served.audit !== 'off')
    throw new Error(`the gateways read audit ${on.served.audit} / ${off.served.audit}, not on / off`);
  if (on.served.caCertPath !== off.served.caCertPath) throw new Error('the gateways use different CAs');

  const ca = readFileSync(on.served.caCertPath);
  const agentOf = () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    agents.push(agent);
    return agent;
  };
  const name = `bench-${randomBytes(4).toString('hex')}`;
  const value = randomBytes(768).toString('base64'); // 1,024 ASCII characters: 1 KiB
  const variant = (g: GatewayProcess) => ({
    agent: agentOf(),
    url: `${g.served.url}/secrets/${name}?${API_VERSION}`,
    auth: { authorization: `Bearer ${g.served.token}` },
  });
  const v = { on: variant(on), off: variant(off) };

  const put = await httpsCall(
    v.on.agent,
    v.on.url,
    'PUT',
    { ...v.on.auth, 'content-type': 'application/json' },
    JSON.stringify({ value }),
  );
  if (put.status !== 200) throw new Error(`setting the secret answered ${put.status}: ${put.text}`);

  // Each process accepts the token its own issuer minted…
  const readValue = async (x: (typeof v)['on'], auth = x.auth) => {
    const res = await httpsCall(x.agent, x.url, 'GET', auth);
    if (res.status !== 200) throw new Error(`GET ${x.url} answered ${res.status}: ${res.text.slice(0, 200)}`);
    if ((JSON.parse(res.text) as { value?: string }).value !== value) throw new Error('GET: wrong value');
    return res.text.length;
  };
  const responseBytes = await readValue(v.on);
  await readValue(v.off);
  // …and, for the record, not the other's: the `iss` names the issuing process's port.
  const crossStatus = {
    onWithOffToken: (await httpsCall(v.on.agent, v.on.url, 'GET', v.off.auth)).status,
    offWithOnToken: (await httpsCall(v.off.agent, v.off.url, 'GET', v.on.auth)).status,
  };

  // Audit really is on in one and off in the other: exactly one record per GET, or none.
  const auditCount = async () => {
    let count = 0;
    let start: Record<string, never> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({
          TableName: auditTableName,
          Select: 'COUNT',
          ConsistentRead: true,
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    return count;
  };
  const recordsPerGets = async (x: (typeof v)['on']) => {
    const before = await auditCount();
    for (let i = 0; i < AUDIT_CHECK_READS; i++) await readValue(x);
    return (await auditCount()) - before;
  };
  const records = { on: await recordsPerGets(v.on), off: await recordsPerGets(v.off) };
  if (records.on !== AUDIT_CHECK_READS || records.off !== 0)
    throw new Error(
      `${AUDIT_CHECK_READS} GETs wrote ${records.on} records with audit on and ${records.off} with audit off`,
    );

  // A record exactly as the audit-on gateway wrote it for a GET, rewritten with a new id and time
  // for each raw PutItem.
  const scanned = await client.send(
    new ScanCommand({
      TableName: auditTableName,
      FilterExpression: 'operationName = :op AND resultType = :ok',
      ExpressionAttributeValues: { ':op': { S: 'SecretGet' }, ':ok': { S: 'Success' } },
      ConsistentRead: true,
    }),
  );
  const sample = JSON.parse(scanned.Items?.[0]?.record?.S ?? 'null') as AuditRecord | null;
  if (!sample) throw new Error('no SecretGet record found in the audit table');
  const auditTable = { name: auditTableName, hotDays: 90 };
  const putAuditCommand = () =>
    new PutItemCommand({
      TableName: auditTableName,
      Item: auditItem(auditTable, { ...sample, id: randomUUID(), time: new Date().toISOString() }),
    });
  const recordBytes = JSON.stringify(sample).length;

  const getItem = new GetItemCommand({
    TableName: tableName,
    Key: { pk: { S: secretPk(VAULT, name) }, sk: { S: HEAD_SK } },
    ConsistentRead: true,
  });
  const checkItem = (item: Record<string, { M?: Record<string, { B?: Uint8Array }> }> | undefined) => {
    if (item?.sealed?.M?.ct?.B?.length !== 1024) throw new Error('GetItem: no 1 KiB sealed value');
  };

  /** One timed read; checks happen after the clock stops. */
  const https = (x: (typeof v)['on']) => async () => {
    const t0 = performance.now();
    const res = await httpsCall(x.agent, x.url, 'GET', x.auth);
    const elapsed = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text.slice(0, 200)}`);
    if ((JSON.parse(res.text) as { value?: string }).value !== value) throw new Error('GET: wrong value');
    return elapsed;
  };
  const readers: Record<Kind, () => Promise<number>> = {
    on: https(v.on),
    off: https(v.off),
    getItem: async () => {
      const t0 = performance.now();
      const out = await client.send(getItem);
      const elapsed = performance.now() - t0;
      checkItem(out.Item);
      return elapsed;
    },
    putAudit: async () => {
      const t0 = performance.now();
      await client.send(putAuditCommand());
      return performance.now() - t0;
    },
    getAndPut: async () => {
      const t0 = performance.now();
      const [out] = await Promise.all([client.send(getItem), client.send(putAuditCommand())]);
      const elapsed = performance.now() - t0;
      checkItem(out.Item);
      return elapsed;
    },
  };

  const {
    samples,
    stats,
    seconds: measuredSeconds,
  } = await measureInterleaved(ORDER, readers, {
    warmUp: WARM_UP,
    blocks: BLOCKS,
    blockSize: BLOCK_SIZE,
  });
  const over = (a: Kind, b: Kind) => ({
    p50: stats[a].p50 / stats[b].p50,
    p99: stats[a].p99 / stats[b].p99,
    mean: stats[a].mean / stats[b].mean,
  });
  const onOff = over('on', 'off');
  const onGetItem = over('on', 'getItem');
  const offGetItem = over('off', 'getItem');
  const met = onOff.p50 <= TARGET && onOff.p99 <= TARGET;
  const byBlock = Object.fromEntries(
    ORDER.map((k) => [
      k,
      Array.from({ length: BLOCKS }, (_, b) =>
        round(latencyStats(samples[k].slice(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE)).p50),
      ),
    ]),
  ) as Record<Kind, number[]>;

  console.log('Secret GET, audit on vs audit off (two gateway processes, same table and data folder)');
  console.log(
    `  1 KiB secret (${responseBytes} B response; a GET's audit record is ${recordBytes} B of JSON); ` +
      `${BLOCKS} interleaved blocks of ${BLOCK_SIZE} sequential reads each after ${WARM_UP} warm-up reads; ` +
      `DynamoDB Local ${dynamo.shared ? "(run-all's, fresh for this benchmark)" : '(own, in memory)'}; ` +
      `${measuredSeconds.toFixed(1)} s measured`,
  );
  console.log(
    `  Checked: each gateway accepts its own token; the other's gets ${crossStatus.onWithOffToken} / ` +
      `${crossStatus.offWithOnToken}; ${AUDIT_CHECK_READS} GETs wrote ${records.on} records with audit on, ` +
      `${records.off} with audit off.`,
  );
  console.log('');
  console.log(
    table([
      ['read', 'n', 'p50', 'p99', 'mean', 'min', 'max'],
      ...ORDER.map((k) => {
        const s = stats[k];
        return [LABELS[k], s.n, ms(s.p50), ms(s.p99), ms(s.mean), ms(s.min), ms(s.max)];
      }),
    ]),
  );
  console.log('');
  console.log(
    `Audit on − off: p50 ${ms(stats.on.p50 - stats.off.p50)}, mean ${ms(stats.on.mean - stats.off.mean)}; ` +
      `the DynamoDB floor of it, (GetItem ∥ PutItem) − GetItem: p50 ${ms(stats.getAndPut.p50 - stats.getItem.p50)}, ` +
      `mean ${ms(stats.getAndPut.mean - stats.getItem.mean)}`,
  );
  console.log(
    `Ratio audit on / audit off: p50 ${ratio(onOff.p50)}, p99 ${ratio(onOff.p99)}, mean ${ratio(onOff.mean)}`,
  );
  console.log(`Target ≤ ${TARGET}× (p50 and p99): ${verdict(met)}`);
  console.log('p50 by block (DynamoDB Local drifts; the ratios compare blocks run side by side):');
  for (const k of ['on', 'off', 'getItem'] as const)
    console.log(`  ${k.padEnd(7)} ${byBlock[k].map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `For reference, / raw GetItem from this process: audit on p50 ${ratio(onGetItem.p50)}, p99 ${ratio(onGetItem.p99)}; ` +
      `audit off p50 ${ratio(offGetItem.p50)}, p99 ${ratio(offGetItem.p99)} ` +
      `(the ≤ ${GET_ITEM_TARGET}× gate is bench/secret-get-vs-getitem.ts's)`,
  );

  const r2 = (x: { p50: number; p99: number; mean: number }) => ({
    p50: round(x.p50, 2),
    p99: round(x.p99, 2),
    mean: round(x.mean, 2),
  });
  printBenchJson('audit-overhead', {
    reads: BLOCKS * BLOCK_SIZE,
    warmUp: WARM_UP,
    blocks: BLOCKS,
    secretBytes: value.length,
    responseBytes,
    recordBytes,
    sharedDynamoDb: dynamo.shared,
    checks: { crossStatus, records },
    ms: Object.fromEntries(
      ORDER.map((k) => [
        k,
        {
          p50: round(stats[k].p50),
          p99: round(stats[k].p99),
          mean: round(stats[k].mean),
          min: round(stats[k].min),
          max: round(stats[k].max),
        },
      ]),
    ),
    p50ByBlock: byBlock,
    ratio: { onOff: r2(onOff), onGetItem: r2(onGetItem), offGetItem: r2(offGetItem) },
    target: TARGET,
    getItemTarget: GET_ITEM_TARGET,
    met,
  });
} finally {
  for (const agent of agents) agent.destroy();
  await Promise.all(gateways.map(stopGatewayProcess));
  client.destroy();
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
