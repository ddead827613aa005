/**
 * Key sign through the local HTTPS gateway vs signing in-process (the floor),
 * in the same run: RSA-2048 (RS256) and EC P-256 (ES256), software keys
 * (kty RSA, EC) and HSM keys (kty RSA-HSM, EC-HSM, in the local vault's
 * SoftHSM2 token).
 *
 * The gateway is bench/support/serve-vault.ts in a child process (audit on,
 * the default); this process is its client over keep-alive HTTPS with the
 * local CA (TLS verified) and a bearer token from the gateway's own issuer.
 * Each gateway signature is checked with node:crypto against the key's public
 * JWK as the gateway returned it (after the clock stops).
 *
 * Floors, measured in this process in the same blocks:
 * - software tier: node:crypto.sign('sha256', message) (hashes the 1 KiB
 *   message, then signs: the floor), and the server's own primitive
 *   on a key of the same type: SoftwareKey.sign over the digest (RS256:
 *   privateEncrypt of DigestInfo‖digest; ES256: @noble/curves through
 *   nobleEcdsaEngine, which exports the private scalar as a JWK each call),
 *   plus, for reference, that key opened from PKCS#8 and then used (what the
 *   handler does per request after unsealing) and bare noble p256.sign;
 * - HSM tier: HsmKey.sign (lib/keys/hsm: pkcs11js, C_SignInit + C_Sign on
 *   one logged-in session) on the very key objects the gateway created, from
 *   a session of this process on the same token. The issue names
 *   graphene-pk11, a wrapper over pkcs11js that the project does not use.
 *
 * Then throughput with 8 requests in flight per kind (keep-alive agent with 8
 * sockets), against Azure's per-vault ceilings for these keys: software
 * 4,000 and HSM 2,000 transactions per 10 s.
 *
 * Prints figures only; it asserts nothing about time. DynamoDB Local, the
 * gateway, SoftHSM2 and this client share 2 cores: never production figures.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  verify as nodeVerify,
  randomBytes,
  sign,
} from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { p256 } from '@noble/curves/nist.js';
import { type HsmKey, Pkcs11KeyStore } from '#lib/keys/hsm/pkcs11-keystore.ts';
import { ck, Pkcs11Session } from '#lib/keys/hsm/pkcs11-session.ts';
import { findSoftHsmModule } from '#lib/keys/hsm/softhsm-token.ts';
import { generateSoftwareKey } from '#lib/keys/software/key-generation.ts';
import { nobleEcdsaEngine } from '#lib/keys/software/noble-ecdsa-engine.ts';
import { SoftwareKey } from '#lib/keys/software/software-key.ts';
import { LOCAL_TOKEN_LABEL } from '#lib/local/local-hsm.ts';
import {
  benchDynamoDb,
  httpsCall,
  type LatencyStats,
  measureConcurrent,
  measureInterleaved,
  ms,
  printBenchJson,
  ratio,
  round,
  table,
} from './support/common.ts';
import { type GatewayProcess, startGatewayProcess, stopGatewayProcess } from './support/gateway-process.ts';

const KEYS_API = 'api-version=2025-07-01';
const SECRETS_API = 'api-version=2026-04-01';
const WARM_UP = 100;
const BLOCKS = 10;
const BLOCK_SIZE = 100;
const CONCURRENCY = 8;
const CONCURRENT_WARM_UP = 40;
const CONCURRENT_ROUNDS = 2;
const CONCURRENT_ROUND_SIZE = 300;
const MESSAGES = 64;
/** Azure Key Vault, per vault and region: "all other transactions" per 10 s for RSA-2048 and P-256 keys. */
const AZURE_PER_10S = { software: 4000, hsm: 2000 } as const;

type Tier = 'software' | 'hsm';
type Kind =
  | 'gwRsa'
  | 'nodeRsa'
  | 'keyRsa'
  | 'openRsa'
  | 'gwEc'
  | 'nodeEc'
  | 'keyEc'
  | 'openEc'
  | 'nobleEc'
  | 'gwRsaHsm'
  | 'p11Rsa'
  | 'gwEcHsm'
  | 'p11Ec'
  | 'secretGet';

const LABELS: Record<Kind, string> = {
  gwRsa: 'RS256 RSA-2048 via gateway (software)',
  nodeRsa: '  node:crypto.sign(sha256, 1 KiB message)',
  keyRsa: '  SoftwareKey.sign(RS256, digest) (server primitive)',
  openRsa: '    SoftwareKey.fromPkcs8 + sign (per request)',
  gwEc: 'ES256 P-256 via gateway (software)',
  nodeEc: '  node:crypto.sign(sha256, 1 KiB message)',
  keyEc: '  SoftwareKey.sign(ES256, digest) (server: noble)',
  openEc: '    SoftwareKey.fromPkcs8 + sign (per request)',
  nobleEc: '    bare p256.sign(digest, d) (@noble/curves)',
  gwRsaHsm: 'RS256 RSA-HSM 2048 via gateway (SoftHSM2)',
  p11Rsa: '  HsmKey.sign(RS256) direct PKCS#11, same key',
  gwEcHsm: 'ES256 EC-HSM P-256 via gateway (SoftHSM2)',
  p11Ec: '  HsmKey.sign(ES256) direct PKCS#11, same key',
  secretGet: 'reference: secret GET (1 KiB) via gateway',
};

/** The comparisons: gateway kind, its floors (the first is the one the ratio headline uses), tier. */
const PAIRS = [
  { name: 'RSA-2048 software', gateway: 'gwRsa', floors: ['keyRsa', 'nodeRsa'], tier: 'software' },
  { name: 'EC P-256 software', gateway: 'gwEc', floors: ['keyEc', 'nodeEc'], tier: 'software' },
  { name: 'RSA-2048 HSM', gateway: 'gwRsaHsm', floors: ['p11Rsa'], tier: 'hsm' },
  { name: 'EC P-256 HSM', gateway: 'gwEcHsm', floors: ['p11Ec'], tier: 'hsm' },
] as const satisfies readonly { name: string; gateway: Kind; floors: readonly Kind[]; tier: Tier }[];

interface CreatedKey {
  readonly name: string;
  readonly version: string;
  readonly jwk: { kty: string; n?: string; e?: string; crv?: string; x?: string; y?: string };
  readonly publicKey: KeyObject;
}

const dynamo = await benchDynamoDb();
const dataDir = mkdtempSync(join(tmpdir(), 'arca-bench-keys-'));
const tableName = `bench-keys-${randomBytes(4).toString('hex')}`;
let gateway: GatewayProcess | undefined;
let hsmSession: Pkcs11Session | undefined;
const agents: Agent[] = [];

try {
  gateway = await startGatewayProcess({ dataDir, dynamoDbEndpoint: dynamo.endpoint, tableName });
  const { url: vaultUrl, token, caCertPath } = gateway.served;
  const ca = readFileSync(caCertPath);
  const seqAgent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const concAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
  agents.push(seqAgent, concAgent);
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };

  // Messages and their SHA-256 digests, used in turn (the same digest is not signed over and over).
  const messages = Array.from({ length: MESSAGES }, () => randomBytes(1024));
  const digests = messages.map((m) => createHash('sha256').update(m).digest());
  const digestsB64 = digests.map((d) => d.toString('base64url'));
  let turn = 0;
  const nextIndex = () => {
    turn = (turn + 1) % MESSAGES;
    return turn;
  };

  const createKey = async (name: string, spec: Record<string, unknown>): Promise<CreatedKey> => {
    const res = await httpsCall(
      seqAgent,
      `${vaultUrl}/keys/${name}/create?${KEYS_API}`,
      'POST',
      json,
      JSON.stringify({ ...spec, key_ops: ['sign', 'verify'] }),
    );
    if (res.status !== 200)
      throw new Error(`creating ${name} answered ${res.status}: ${res.text.slice(0, 300)}`);
    const jwk = (JSON.parse(res.text) as { key: CreatedKey['jwk'] & { kid: string } }).key;
    const version = jwk.kid.split('/').pop() as string;
    const publicJwk = jwk.kty.startsWith('RSA')
      ? { kty: 'RSA', n: jwk.n, e: jwk.e }
      : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
    return { name, version, jwk, publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }) };
  };

  let hsmSkipped: string | undefined;
  try {
    findSoftHsmModule();
  } catch (error) {
    hsmSkipped = (error as Error).message;
  }
  const rsa = await createKey('bench-rsa', { kty: 'RSA', key_size: 2048 });
  const ec = await createKey('bench-ec', { kty: 'EC', crv: 'P-256' });
  const rsaHsm = hsmSkipped
    ? undefined
    : await createKey('bench-rsa-hsm', { kty: 'RSA-HSM', key_size: 2048 });
  const ecHsm = hsmSkipped ? undefined : await createKey('bench-ec-hsm', { kty: 'EC-HSM', crv: 'P-256' });

  // A secret for the reference GET.
  const secretUrl = `${vaultUrl}/secrets/bench-ref?${SECRETS_API}`;
  const secretValue = randomBytes(768).toString('base64');
  const put = await httpsCall(seqAgent, secretUrl, 'PUT', json, JSON.stringify({ value: secretValue }));
  if (put.status !== 200) throw new Error(`setting the secret answered ${put.status}`);

  // Software floors: keys of the same types made here (the gateway's private parts stay sealed in its table).
  const rsaMaterial = await generateSoftwareKey({ kty: 'RSA', keySize: 2048 });
  const ecMaterial = await generateSoftwareKey({ kty: 'EC', curve: 'P-256' });
  const rsaPrivate = createPrivateKey({ key: rsaMaterial.pkcs8, format: 'der', type: 'pkcs8' });
  const ecPrivate = createPrivateKey({ key: ecMaterial.pkcs8, format: 'der', type: 'pkcs8' });
  const ecD = Buffer.from(ecPrivate.export({ format: 'jwk' }).d as string, 'base64url');
  const options = { ecdsa: nobleEcdsaEngine };
  const rsaKey = SoftwareKey.fromPkcs8(rsaMaterial.pkcs8, ['sign', 'verify'], options);
  const ecKey = SoftwareKey.fromPkcs8(ecMaterial.pkcs8, ['sign', 'verify'], options);

  // HSM floor: this process's own session on the gateway's token, and the gateway's very key objects.
  let p11RsaKey: HsmKey | undefined;
  let p11EcKey: HsmKey | undefined;
  if (rsaHsm && ecHsm) {
    const softhsmDir = join(dataDir, 'softhsm');
    if (!existsSync(join(softhsmDir, 'softhsm2.conf'))) throw new Error('the gateway made no SoftHSM2 token');
    process.env.SOFTHSM2_CONF = join(softhsmDir, 'softhsm2.conf'); // before the module is initialised
    hsmSession = await Pkcs11Session.open({
      modulePath: findSoftHsmModule(),
      tokenLabel: LOCAL_TOKEN_LABEL,
      pin: readFileSync(join(softhsmDir, 'user-pin'), 'utf8').trim(),
    });
    const labels = await hsmSession.run((p, s) => {
      p.C_FindObjectsInit(s, [{ type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY }]);
      const found = p.C_FindObjects(s, 100);
      p.C_FindObjectsFinal(s);
      return found.map((o) => String(p.C_GetAttributeValue(s, o, [{ type: ck.CKA_LABEL }])[0]?.value));
    });
    const store = new Pkcs11KeyStore(hsmSession);
    for (const label of labels) {
      const key = await store.open(label);
      if (key.publicJwk.n?.equals(Buffer.from(rsaHsm.jwk.n ?? '', 'base64url'))) p11RsaKey = key;
      if (key.publicJwk.x?.equals(Buffer.from(ecHsm.jwk.x ?? '', 'base64url'))) p11EcKey = key;
    }
    if (!p11RsaKey || !p11EcKey) throw new Error('the gateway’s HSM keys were not found in the token');
  }

  const rsaSize = 256;
  const ecSize = 64;
  /** Checks a gateway signature against the key's public JWK (outside the timing). */
  const check = (key: CreatedKey, alg: 'RS256' | 'ES256', index: number, signature: Buffer) => {
    const ok =
      alg === 'RS256'
        ? nodeVerify('sha256', messages[index] as Buffer, key.publicKey, signature)
        : nodeVerify(
            'sha256',
            messages[index] as Buffer,
            { key: key.publicKey, dsaEncoding: 'ieee-p1363' },
            signature,
          );
    if (!ok) throw new Error(`${key.name}: the ${alg} signature does not verify`);
  };

  /** One sign through the gateway: status, length (and, when `verify`, the signature) checked after the clock. */
  const gatewaySign =
    (agent: Agent, key: CreatedKey | undefined, alg: 'RS256' | 'ES256', verify: boolean) => async () => {
      if (!key) throw new Error('no such key');
      const index = nextIndex();
      const url = `${vaultUrl}/keys/${key.name}/${key.version}/sign?${KEYS_API}`;
      const body = `{"alg":"${alg}","value":"${digestsB64[index]}"}`;
      const t0 = performance.now();
      const res = await httpsCall(agent, url, 'POST', json, body);
      const elapsed = performance.now() - t0;
      if (res.status !== 200)
        throw new Error(`sign ${key.name} answered ${res.status}: ${res.text.slice(0, 200)}`);
      const signature = Buffer.from((JSON.parse(res.text) as { value: string }).value, 'base64url');
      if (signature.length !== (alg === 'RS256' ? rsaSize : ecSize))
        throw new Error(`${key.name}: bad length`);
      if (verify) check(key, alg, index, signature);
      return elapsed;
    };
  const secretGet = (agent: Agent) => async () => {
    const t0 = performance.now();
    const res = await httpsCall(agent, secretUrl, 'GET', auth);
    const elapsed = performance.now() - t0;
    if (res.status !== 200 || (JSON.parse(res.text) as { value?: string }).value !== secretValue)
      throw new Error(`secret GET answered ${res.status}`);
    return elapsed;
  };
  /** An in-process floor: times fn, checks its output's length after the clock. */
  const timed = (length: number, fn: (index: number) => Buffer | Promise<Buffer>) => async () => {
    const index = nextIndex();
    const t0 = performance.now();
    const out = await fn(index);
    const elapsed = performance.now() - t0;
    if (out.length !== length) throw new Error('a floor returned a signature of the wrong length');
    return elapsed;
  };
  const nodeSignAsync = (key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' }, index: number) =>
    new Promise<Buffer>((resolve, reject) =>
      sign('sha256', messages[index] as Buffer, key, (error, out) => (error ? reject(error) : resolve(out))),
    );
  const ecNodeKey = { key: ecPrivate, dsaEncoding: 'ieee-p1363' as const };
  const p11 = (key: HsmKey | undefined, alg: 'RS256' | 'ES256') => (index: number) => {
    if (!key) throw new Error('no HSM key');
    return key.sign(alg, digests[index] as Buffer);
  };

  const sequential: Record<Kind, () => Promise<number>> = {
    gwRsa: gatewaySign(seqAgent, rsa, 'RS256', true),
    nodeRsa: timed(rsaSize, (i) => sign('sha256', messages[i] as Buffer, rsaPrivate)),
    keyRsa: timed(rsaSize, (i) => rsaKey.sign('RS256', digests[i] as Buffer)),
    openRsa: timed(rsaSize, (i) =>
      SoftwareKey.fromPkcs8(rsaMaterial.pkcs8, ['sign', 'verify'], options).sign(
        'RS256',
        digests[i] as Buffer,
      ),
    ),
    gwEc: gatewaySign(seqAgent, ec, 'ES256', true),
    nodeEc: timed(ecSize, (i) => sign('sha256', messages[i] as Buffer, ecNodeKey)),
    keyEc: timed(ecSize, (i) => ecKey.sign('ES256', digests[i] as Buffer)),
    openEc: timed(ecSize, (i) =>
      SoftwareKey.fromPkcs8(ecMaterial.pkcs8, ['sign', 'verify'], options).sign(
        'ES256',
        digests[i] as Buffer,
      ),
    ),
    nobleEc: timed(ecSize, (i) => Buffer.from(p256.sign(digests[i] as Buffer, ecD, { prehash: false }))),
    gwRsaHsm: gatewaySign(seqAgent, rsaHsm, 'RS256', true),
    p11Rsa: timed(rsaSize, p11(p11RsaKey, 'RS256')),
    gwEcHsm: gatewaySign(seqAgent, ecHsm, 'ES256', true),
    p11Ec: timed(ecSize, p11(p11EcKey, 'ES256')),
    secretGet: secretGet(seqAgent),
  };
  // With 8 in flight: node:crypto.sign with a callback runs on libuv's thread pool (both cores); the
  // other floors are synchronous (SoftwareKey, noble) or serialised on one PKCS#11 session (HsmKey),
  // as in the server. Gateway signatures are checked for status and length (verifying them all
  // here would take CPU from the gateway); one per kind is verified before.
  const concurrent: Partial<Record<Kind, () => Promise<number>>> = {
    gwRsa: gatewaySign(concAgent, rsa, 'RS256', false),
    nodeRsa: timed(rsaSize, (i) => nodeSignAsync(rsaPrivate, i)),
    keyRsa: sequential.keyRsa,
    gwEc: gatewaySign(concAgent, ec, 'ES256', false),
    nodeEc: timed(ecSize, (i) => nodeSignAsync(ecNodeKey, i)),
    keyEc: sequential.keyEc,
    gwRsaHsm: gatewaySign(concAgent, rsaHsm, 'RS256', false),
    p11Rsa: sequential.p11Rsa,
    gwEcHsm: gatewaySign(concAgent, ecHsm, 'ES256', false),
    p11Ec: sequential.p11Ec,
    secretGet: secretGet(concAgent),
  };

  const hsmKinds: readonly Kind[] = ['gwRsaHsm', 'p11Rsa', 'gwEcHsm', 'p11Ec'];
  const order = (Object.keys(LABELS) as Kind[]).filter((k) => !hsmSkipped || !hsmKinds.includes(k));
  const concurrentOrder = order.filter((k) => concurrent[k] !== undefined);

  // The HSM floor signs what the gateway signs: RSA PKCS#1 v1.5 is deterministic, so equal bytes
  // say it is the same key object in the same token.
  if (rsaHsm && p11RsaKey) {
    const res = await httpsCall(
      seqAgent,
      `${vaultUrl}/keys/${rsaHsm.name}/${rsaHsm.version}/sign?${KEYS_API}`,
      'POST',
      json,
      JSON.stringify({ alg: 'RS256', value: digestsB64[0] }),
    );
    const viaGateway = Buffer.from((JSON.parse(res.text) as { value: string }).value, 'base64url');
    if (!viaGateway.equals(await p11RsaKey.sign('RS256', digests[0] as Buffer)))
      throw new Error('the HSM floor did not sign with the gateway’s key');
  }
  for (const [key, alg] of [
    [ec, 'ES256'],
    [rsa, 'RS256'],
  ] as const) {
    await gatewaySign(seqAgent, key, alg, true)();
  }

  const started = performance.now();
  const { stats, seconds: sequentialSeconds } = await measureInterleaved(order, sequential, {
    warmUp: WARM_UP,
    blocks: BLOCKS,
    blockSize: BLOCK_SIZE,
  });
  const conc = await measureConcurrent(concurrentOrder, concurrent as Record<Kind, () => Promise<number>>, {
    concurrency: CONCURRENCY,
    warmUp: CONCURRENT_WARM_UP,
    rounds: CONCURRENT_ROUNDS,
    roundSize: CONCURRENT_ROUND_SIZE,
  });
  const measuredSeconds = (performance.now() - started) / 1000;

  const seqOps = (s: LatencyStats) => 1000 / s.mean;
  const ops = (x: number) => `${x.toFixed(0)}/s`;

  console.log('Key sign through the local gateway vs in-process floors (same run)');
  console.log(
    `  ${BLOCKS} interleaved blocks of ${BLOCK_SIZE} sequential calls per kind after ${WARM_UP} warm-up; ` +
      `then ${CONCURRENCY} in flight: ${CONCURRENT_ROUNDS} rounds of ${CONCURRENT_ROUND_SIZE} per kind ` +
      `after ${CONCURRENT_WARM_UP}; gateway in a child process, audit on; DynamoDB Local ` +
      `${dynamo.shared ? "(run-all's, fresh for this benchmark)" : '(own, in memory)'}; ` +
      `${sequentialSeconds.toFixed(1)} s sequential, ${measuredSeconds.toFixed(1)} s in all`,
  );
  if (hsmSkipped) console.log(`  HSM tier skipped: ${hsmSkipped}`);
  console.log('');
  console.log('Sequential (one call at a time):');
  console.log(
    table([
      ['call', 'n', 'p50', 'p99', 'mean', 'ops/s (1/mean)'],
      ...order.map((k) => {
        const s = stats[k];
        return [LABELS[k], s.n, ms(s.p50), ms(s.p99), ms(s.mean), ops(seqOps(s))];
      }),
    ]),
  );
  console.log('');
  console.log(`${CONCURRENCY} in flight:`);
  console.log(
    table([
      ['call', 'n', 'p50', 'p99', 'ops/s'],
      ...concurrentOrder.map((k) => {
        const s = conc[k];
        return [LABELS[k].trimStart(), s.n, ms(s.p50), ms(s.p99), ops(s.opsPerSecond)];
      }),
    ]),
  );
  console.log('');

  const pairs = PAIRS.filter((p) => !(hsmSkipped && p.tier === 'hsm'));
  const summary = pairs.map((p) => {
    const g = stats[p.gateway];
    const ceiling = AZURE_PER_10S[p.tier] / 10;
    return {
      name: p.name,
      tier: p.tier,
      gatewayMs: { p50: round(g.p50), p99: round(g.p99) },
      floors: Object.fromEntries(
        p.floors.map((f) => [
          f,
          {
            ms: { p50: round(stats[f].p50), p99: round(stats[f].p99) },
            ratio: { p50: round(g.p50 / stats[f].p50, 2), p99: round(g.p99 / stats[f].p99, 2) },
            opsPerSecond: {
              sequential: round(seqOps(stats[f]), 0),
              concurrent: round(conc[f].opsPerSecond, 0),
            },
          },
        ]),
      ),
      opsPerSecond: { sequential: round(seqOps(g), 0), concurrent: round(conc[p.gateway].opsPerSecond, 0) },
      concurrentMs: { p50: round(conc[p.gateway].p50), p99: round(conc[p.gateway].p99) },
      azure: {
        per10s: AZURE_PER_10S[p.tier],
        opsPerSecond: ceiling,
        sequential: round(seqOps(g) / ceiling, 2),
        concurrent: round(conc[p.gateway].opsPerSecond / ceiling, 2),
      },
    };
  });
  console.log('Gateway / floor (sequential latency), and throughput against Azure’s per-vault ceiling:');
  console.log(
    table([
      [
        'key',
        'floor',
        'gw/floor p50',
        'p99',
        `gw ops/s seq, ${CONCURRENCY}∥`,
        'Azure ceiling',
        '÷ Azure seq, 8∥',
      ],
      ...summary.flatMap((s) =>
        Object.entries(s.floors).map(([f, fl], i) => [
          i === 0 ? s.name : '',
          LABELS[f as Kind].trim(),
          ratio(fl.ratio.p50),
          ratio(fl.ratio.p99),
          i === 0 ? `${s.opsPerSecond.sequential}, ${s.opsPerSecond.concurrent}` : '',
          i === 0 ? `${s.azure.per10s}/10 s = ${s.azure.opsPerSecond}/s` : '',
          i === 0 ? `${ratio(s.azure.sequential)}, ${ratio(s.azure.concurrent)}` : '',
        ]),
      ),
    ]),
  );
  console.log('');
  const refGet = stats.secretGet.p50;
  console.log(
    `Reference: secret GET via the same gateway p50 ${ms(refGet)}; sign − GET at p50: ` +
      pairs.map((p) => `${p.name} ${ms(stats[p.gateway].p50 - refGet)}`).join(', '),
  );
  console.log(
    'Local figures on 2 shared cores (DynamoDB Local, gateway, SoftHSM2, client): not production figures.',
  );

  printBenchJson('key-sign', {
    calls: BLOCKS * BLOCK_SIZE,
    warmUp: WARM_UP,
    blocks: BLOCKS,
    concurrency: CONCURRENCY,
    concurrentCalls: CONCURRENT_ROUNDS * CONCURRENT_ROUND_SIZE,
    sharedDynamoDb: dynamo.shared,
    hsm: hsmSkipped ? `skipped: ${hsmSkipped}` : 'SoftHSM2',
    ms: Object.fromEntries(
      order.map((k) => [
        k,
        { p50: round(stats[k].p50), p99: round(stats[k].p99), mean: round(stats[k].mean) },
      ]),
    ),
    concurrent: Object.fromEntries(
      concurrentOrder.map((k) => [
        k,
        { p50: round(conc[k].p50), p99: round(conc[k].p99), opsPerSecond: round(conc[k].opsPerSecond, 0) },
      ]),
    ),
    summary,
  });
} finally {
  for (const agent of agents) agent.destroy();
  await hsmSession?.close();
  if (gateway) await stopGatewayProcess(gateway);
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
