/**
 * Secret GET through the local HTTPS gateway vs a raw GetItem of the same
 * head item on the same DynamoDB Local. Sequential reads of one 1 KiB secret,
 * measured in interleaved blocks whose order alternates, after a warm-up.
 *
 * Also, in-process and in the same blocks, the layers in between, to show
 * where the time goes: the Lambda handler called with a synthetic API Gateway
 * event, the get-secret use case alone, and the token check alone. The gateway
 * and the handler run with audit on (the default): each read's record is
 * written to the audit table alongside it, so "handler − use case" includes
 * that write; bench/audit-overhead.ts compares audit on with audit off.
 *
 * Prints figures only; it asserts nothing about time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext } from '#lib/local/api-gateway-event.ts';
import { ensureLocalCa } from '#lib/local/local-ca.ts';
import { startLocalVault } from '#lib/local/local-vault.ts';
import { secretPk } from '#lib/store/secret-items.ts';
import { HEAD_SK } from '#lib/store/table-schema.ts';
import {
  benchDynamoDb,
  dynamoClient,
  httpsCall,
  measureInterleaved,
  ms,
  printBenchJson,
  ratio,
  round,
  table,
  verdict,
} from './support/common.ts';

const API_VERSION = 'api-version=2026-04-01';
const WARM_UP = 200;
const BLOCKS = 10;
const BLOCK_SIZE = 200;
const TARGET = 1.5;
const VAULT = 'dev'; // the local vault's default vault: https://localhost:{port} names no other

type Kind = 'gateway' | 'getItem' | 'httpsFloor' | 'handler' | 'useCase' | 'verifyToken';
const LABELS: Record<Kind, string> = {
  gateway: 'HTTPS GET via local gateway',
  getItem: 'raw GetItem (DynamoDB Local)',
  httpsFloor: '  HTTPS round trip alone (fixed body)',
  handler: '  handler in-process (synthetic event)',
  useCase: '  get-secret use case in-process',
  verifyToken: '  token check alone (jose)',
};
const ORDER: readonly Kind[] = ['gateway', 'getItem', 'httpsFloor', 'handler', 'useCase', 'verifyToken'];

const dynamo = await benchDynamoDb();
const dataDir = mkdtempSync(join(tmpdir(), 'arca-bench-'));
const tableName = `bench-get-${randomBytes(4).toString('hex')}`;
const vault = await startLocalVault({ dataDir, port: 0, dynamoDbEndpoint: dynamo.endpoint, tableName });
const client = dynamoClient(dynamo.endpoint);
const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(vault.info.caCertPath) });
// The transport alone: an HTTPS server with the vault's certificate answering a fixed body of the
// same size, in the same process as the gateway, so its cost can be told from the gateway's.
const tls = await ensureLocalCa(join(dataDir, 'tls'));
let floorBody = '';
const floorServer = createServer(
  { cert: tls.certPem, key: tls.keyPem, keepAliveTimeout: 30_000 },
  (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': floorBody.length,
    });
    res.end(floorBody);
  },
);
const floorPort = await new Promise<number>((done) =>
  floorServer.listen(0, '127.0.0.1', () => done((floorServer.address() as AddressInfo).port)),
);
const floorAgent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(vault.info.caCertPath) });

try {
  const token = await vault.issuer.mintToken({ clientId: vault.info.clientId });
  const name = `bench-${randomBytes(4).toString('hex')}`;
  const value = randomBytes(768).toString('base64'); // 1,024 ASCII characters: 1 KiB
  const url = `${vault.info.vaultUrl}/secrets/${name}?${API_VERSION}`;
  const auth = { authorization: `Bearer ${token}` };

  const put = await httpsCall(
    agent,
    url,
    'PUT',
    { ...auth, 'content-type': 'application/json' },
    JSON.stringify({ value }),
  );
  if (put.status !== 200) throw new Error(`setting the secret answered ${put.status}: ${put.text}`);
  floorBody = (await httpsCall(agent, url, 'GET', auth)).text;
  const floorUrl = `https://localhost:${floorPort}/secrets/${name}?${API_VERSION}`;

  // The handler module the gateway loaded (same file URL, same container), imported after the
  // vault set process.env.
  const { handler } = (await import('../functions/secrets/get-secret.ts')) as {
    handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  };
  const { container } = await import('#lib/runtime/container.ts');
  const { makeGetSecret } = await import('#lib/secrets/get-secret.ts');
  const getSecret = makeGetSecret(container().secrets);
  const { verifyToken } = container();
  const host = new URL(vault.info.vaultUrl).host;

  const getItem = new GetItemCommand({
    TableName: tableName,
    Key: { pk: { S: secretPk(VAULT, name) }, sk: { S: HEAD_SK } },
    ConsistentRead: true,
  });
  let responseBytes = 0;
  let itemCiphertextBytes = 0;

  const syntheticEvent = (): APIGatewayProxyEventV2 => {
    const now = Date.now();
    return {
      version: '2.0',
      routeKey: 'GET /secrets/{name}',
      rawPath: `/secrets/${name}`,
      rawQueryString: API_VERSION,
      headers: { host, ...auth },
      queryStringParameters: { 'api-version': '2026-04-01' },
      pathParameters: { name },
      requestContext: {
        accountId: 'local',
        apiId: 'local',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: {
          method: 'GET',
          path: `/secrets/${name}`,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'bench',
        },
        requestId: 'bench',
        routeKey: 'GET /secrets/{name}',
        stage: '$default',
        time: new Date(now).toISOString(),
        timeEpoch: now,
      },
      isBase64Encoded: false,
    };
  };
  const context = lambdaContext('secrets/get-secret', 'bench');

  /** One timed read; checks happen after the clock stops. */
  const readers: Record<Kind, () => Promise<number>> = {
    gateway: async () => {
      const t0 = performance.now();
      const res = await httpsCall(agent, url, 'GET', auth);
      const elapsed = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text.slice(0, 200)}`);
      if ((JSON.parse(res.text) as { value?: string }).value !== value) throw new Error('GET: wrong value');
      responseBytes = res.text.length;
      return elapsed;
    },
    getItem: async () => {
      const t0 = performance.now();
      const out = await client.send(getItem);
      const elapsed = performance.now() - t0;
      const ct = out.Item?.sealed?.M?.ct?.B;
      if (ct?.length !== 1024) throw new Error('GetItem: the head item has no 1 KiB sealed value');
      itemCiphertextBytes = ct.length;
      return elapsed;
    },
    httpsFloor: async () => {
      const t0 = performance.now();
      const res = await httpsCall(floorAgent, floorUrl, 'GET', auth);
      const elapsed = performance.now() - t0;
      if (res.status !== 200 || res.text.length !== floorBody.length)
        throw new Error('HTTPS floor: wrong answer');
      return elapsed;
    },
    handler: async () => {
      const event = syntheticEvent();
      const t0 = performance.now();
      const res = await handler(event, context);
      const elapsed = performance.now() - t0;
      if (res.statusCode !== 200) throw new Error(`handler answered ${res.statusCode}`);
      if ((JSON.parse(res.body ?? '{}') as { value?: string }).value !== value)
        throw new Error('handler: wrong value');
      return elapsed;
    },
    useCase: async () => {
      const t0 = performance.now();
      const out = await getSecret(VAULT, name);
      const elapsed = performance.now() - t0;
      if (out.value !== value) throw new Error('use case: wrong value');
      return elapsed;
    },
    verifyToken: async () => {
      const t0 = performance.now();
      await verifyToken(token);
      return performance.now() - t0;
    },
  };

  const { stats, seconds: measuredSeconds } = await measureInterleaved(ORDER, readers, {
    warmUp: WARM_UP,
    blocks: BLOCKS,
    blockSize: BLOCK_SIZE,
  });
  const p50Ratio = stats.gateway.p50 / stats.getItem.p50;
  const p99Ratio = stats.gateway.p99 / stats.getItem.p99;
  const met = p50Ratio <= TARGET && p99Ratio <= TARGET;

  console.log('Secret GET through the local gateway vs raw GetItem of the same item');
  console.log(
    `  1 KiB secret (${itemCiphertextBytes} B sealed, ${responseBytes} B response); ` +
      `${BLOCKS} interleaved blocks of ${BLOCK_SIZE} sequential reads each after ${WARM_UP} warm-up reads; ` +
      `DynamoDB Local ${dynamo.shared ? "(run-all's, fresh for this benchmark)" : '(own, in memory)'}; ` +
      `${measuredSeconds.toFixed(1)} s measured`,
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
  const delta = (a: Kind, b: Kind) => ms(stats[a].p50 - stats[b].p50);
  console.log('Where the time goes (differences of p50):');
  console.log(`  TLS + HTTP + local gateway (gateway − handler):        ${delta('gateway', 'handler')}`);
  console.log(`    of which an HTTPS round trip alone:                  ${ms(stats.httpsFloor.p50)}`);
  console.log(
    `  middy + token check + audit write + response (handler − use case): ${delta('handler', 'useCase')}`,
  );
  console.log(`    of which the token check alone:                      ${ms(stats.verifyToken.p50)}`);
  console.log(`  unmarshal + data-key cache + AES-GCM (use case − GetItem): ${delta('useCase', 'getItem')}`);
  console.log('');
  console.log(`Ratio gateway / GetItem: p50 ${ratio(p50Ratio)}, p99 ${ratio(p99Ratio)}`);
  console.log(`Target ≤ ${TARGET}× (p50 and p99): ${verdict(met)}`);

  printBenchJson('secret-get-vs-getitem', {
    reads: BLOCKS * BLOCK_SIZE,
    warmUp: WARM_UP,
    blocks: BLOCKS,
    secretBytes: value.length,
    responseBytes,
    sharedDynamoDb: dynamo.shared,
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
    ratio: { p50: round(p50Ratio, 2), p99: round(p99Ratio, 2) },
    target: TARGET,
    met,
  });
} finally {
  agent.destroy();
  floorAgent.destroy();
  floorServer.closeAllConnections();
  floorServer.close();
  client.destroy();
  await vault.close();
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
