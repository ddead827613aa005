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
 * - HSM tier, on the very key objects the gateway created (found by their
 *   public key, then by their label), from sessions of this process on the
 *   same SoftHSM2 token (SOFTHSM2_CONF set to the vault's config):
 *   - graphene-pk11 signing directly, the HSM floor and the one the
 *     ratio headline uses: session.createSign(mechanism, key).once(input),
 *     i.e. C_SignInit + C_Sign, on graphene's own logged-in session;
 *   - HsmKey.sign, the server's own primitive (lib/keys/hsm: pkcs11js,
 *     C_SignInit + C_Sign on one logged-in session, serialised through
 *     Pkcs11Session.run), as a second reference.
 *   Both sign the same input with the same mechanism: RS256 is CKM_RSA_PKCS
 *   over DigestInfo‖SHA-256 digest (what HsmKey.sign does, so the floors
 *   compare), ES256 is CKM_ECDSA over the 32-byte digest. graphene-pk11 wraps
 *   pkcs11js, so both load the same module in this process: the project's
 *   session initialises it first, graphene's C_Initialize then meets
 *   CKR_CRYPTOKI_ALREADY_INITIALIZED (and C_Login CKR_USER_ALREADY_LOGGED_IN),
 *   and only whoever initialised it finalises it, once, at the end.
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
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { p256 } from '@noble/curves/nist.js';
import {
  Module as GrapheneModule,
  type Session as GrapheneSession,
  MechanismEnum,
  ObjectClass,
  type PrivateKey,
  SessionFlag,
} from 'graphene-pk11';
import { type HsmKey, Pkcs11KeyStore } from '#lib/keys/hsm/pkcs11-keystore.ts';
import { HASHES } from '#lib/keys/hsm/pkcs11-mechanisms.ts';
import {
  ck,
  ckrOf,
  clearOpenSslErrorQueue,
  normaliseTokenLabel,
  Pkcs11Session,
} from '#lib/keys/hsm/pkcs11-session.ts';
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
  | 'gnRsa'
  | 'p11Rsa'
  | 'gwEcHsm'
  | 'gnEc'
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
  gnRsa: '  graphene-pk11 sign RSA_PKCS, same key (HSM floor)',
  p11Rsa: '  HsmKey.sign(RS256) direct PKCS#11, same key',
  gwEcHsm: 'ES256 EC-HSM P-256 via gateway (SoftHSM2)',
  gnEc: '  graphene-pk11 sign ECDSA, same key (HSM floor)',
  p11Ec: '  HsmKey.sign(ES256) direct PKCS#11, same key',
  secretGet: 'reference: secret GET (1 KiB) via gateway',
};

/** The comparisons: gateway kind, its floors (the first is the one the ratio headline uses), tier. */
const PAIRS = [
  { name: 'RSA-2048 software', gateway: 'gwRsa', floors: ['keyRsa', 'nodeRsa'], tier: 'software' },
  { name: 'EC P-256 software', gateway: 'gwEc', floors: ['keyEc', 'nodeEc'], tier: 'software' },
  { name: 'RSA-2048 HSM', gateway: 'gwRsaHsm', floors: ['gnRsa', 'p11Rsa'], tier: 'hsm' },
  { name: 'EC P-256 HSM', gateway: 'gwEcHsm', floors: ['gnEc', 'p11Ec'], tier: 'hsm' },
] as const satisfies readonly { name: string; gateway: Kind; floors: readonly Kind[]; tier: Tier }[];

/** The versions the HSM floors ran on (read from the installed packages). */
const require = createRequire(import.meta.url);
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
const GRAPHENE_VERSION = versionOf('graphene-pk11');
const PKCS11JS_VERSION = versionOf('pkcs11js');
/** DigestInfo of SHA-256 (RFC 8017): RS256 on CKM_RSA_PKCS signs DigestInfo‖digest, as HsmKey.sign does. */
const SHA256_DIGEST_INFO = Buffer.from(HASHES.sha256.digestInfo, 'hex');

/** graphene-pk11's own handle on the module, its session, and whether it must finalise the module. */
interface Graphene {
  readonly module: GrapheneModule;
  session?: GrapheneSession;
  /** True only if graphene's C_Initialize was the one that initialised the module. */
  finalises: boolean;
  /** The module's manufacturer and version, from C_GetInfo (e.g. "SoftHSM 2.6"). */
  readonly library: string;
  /** What graphene met: who initialised the module, and whether this process was logged in already. */
  readonly notes: string[];
}

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
let graphene: Graphene | undefined;
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

  // The HSM floor: graphene-pk11 on the same module, token and key objects (found by the
  // label the gateway stored, the handle of the HsmKey found above), on a session of its own.
  let gnRsaKey: PrivateKey | undefined;
  let gnEcKey: PrivateKey | undefined;
  if (p11RsaKey && p11EcKey) {
    const module = GrapheneModule.load(findSoftHsmModule(), 'SoftHSM2');
    // Is the module initialised already (by the Pkcs11Session above)? Then graphene must not finalise it.
    let initialisedBefore = true;
    try {
      module.lib.C_GetInfo();
    } catch (error) {
      if (ckrOf(error) !== 'CKR_CRYPTOKI_NOT_INITIALIZED') throw error;
      initialisedBefore = false;
    }
    try {
      module.initialize(); // graphene 2.3.6 ignores CKR_CRYPTOKI_ALREADY_INITIALIZED itself; others may not
    } catch (error) {
      if (ckrOf(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
    }
    const library = `${module.manufacturerID} ${module.libraryVersion.major}.${module.libraryVersion.minor}`;
    const notes = [
      initialisedBefore
        ? 'module already initialised by Pkcs11Session (CKR_CRYPTOKI_ALREADY_INITIALIZED)'
        : 'module initialised by graphene',
    ];
    graphene = { module, finalises: !initialisedBefore, library, notes };
    const slot = [...module.getSlots(true)].find(
      (s) => normaliseTokenLabel(s.getToken().label) === LOCAL_TOKEN_LABEL,
    );
    if (!slot) throw new Error(`graphene-pk11 found no token labelled ${LOCAL_TOKEN_LABEL}`);
    const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
    graphene.session = session;
    try {
      session.login(readFileSync(join(dataDir, 'softhsm', 'user-pin'), 'utf8').trim());
    } catch (error) {
      // Login is per application: the Pkcs11Session of this process has logged in already.
      if (ckrOf(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
      notes.push('already logged in (CKR_USER_ALREADY_LOGGED_IN)');
    }
    const privateKeyOf = (label: string) => {
      const found = session.find({ class: ObjectClass.PRIVATE_KEY, label });
      if (found.length !== 1)
        throw new Error(`graphene-pk11 found ${found.length} private keys labelled ${label}`);
      return found.items(0).toType<PrivateKey>();
    };
    gnRsaKey = privateKeyOf(p11RsaKey.handle);
    gnEcKey = privateKeyOf(p11EcKey.handle);
    clearOpenSslErrorQueue();
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
  /** An in-process floor: times fn, checks its output's length (and runs `after`) after the clock. */
  const timed =
    (length: number, fn: (index: number) => Buffer | Promise<Buffer>, after?: () => void) => async () => {
      const index = nextIndex();
      const t0 = performance.now();
      const out = await fn(index);
      const elapsed = performance.now() - t0;
      after?.();
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
  /** graphene-pk11 signing directly: C_SignInit + C_Sign, the same input and mechanism as HsmKey.sign. */
  const gn = (key: PrivateKey | undefined, alg: 'RS256' | 'ES256') => (index: number) => {
    const session = graphene?.session;
    if (!key || !session) throw new Error('no graphene-pk11 key');
    const digest = digests[index] as Buffer;
    return alg === 'RS256'
      ? session.createSign(MechanismEnum.RSA_PKCS, key).once(Buffer.concat([SHA256_DIGEST_INFO, digest]))
      : session.createSign(MechanismEnum.ECDSA, key).once(digest);
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
    // HsmKey.sign clears Node's OpenSSL error queue inside its timing (Pkcs11Session.run); for
    // graphene it is done after the clock, so SoftHSM2 can leave nothing behind for TLS.
    gnRsa: timed(rsaSize, gn(gnRsaKey, 'RS256'), clearOpenSslErrorQueue),
    p11Rsa: timed(rsaSize, p11(p11RsaKey, 'RS256')),
    gwEcHsm: gatewaySign(seqAgent, ecHsm, 'ES256', true),
    gnEc: timed(ecSize, gn(gnEcKey, 'ES256'), clearOpenSslErrorQueue),
    p11Ec: timed(ecSize, p11(p11EcKey, 'ES256')),
    secretGet: secretGet(seqAgent),
  };
  // With 8 in flight: node:crypto.sign with a callback runs on libuv's thread pool (both cores); the
  // other floors are synchronous (SoftwareKey, noble, graphene-pk11's once without a callback) or
  // serialised on one PKCS#11 session (HsmKey), as in the server. Gateway signatures are checked for status and length (verifying them all
  // here would take CPU from the gateway); one per kind is verified before.
  const concurrent: Partial<Record<Kind, () => Promise<number>>> = {
    gwRsa: gatewaySign(concAgent, rsa, 'RS256', false),
    nodeRsa: timed(rsaSize, (i) => nodeSignAsync(rsaPrivate, i)),
    keyRsa: sequential.keyRsa,
    gwEc: gatewaySign(concAgent, ec, 'ES256', false),
    nodeEc: timed(ecSize, (i) => nodeSignAsync(ecNodeKey, i)),
    keyEc: sequential.keyEc,
    gwRsaHsm: gatewaySign(concAgent, rsaHsm, 'RS256', false),
    gnRsa: sequential.gnRsa,
    p11Rsa: sequential.p11Rsa,
    gwEcHsm: gatewaySign(concAgent, ecHsm, 'ES256', false),
    gnEc: sequential.gnEc,
    p11Ec: sequential.p11Ec,
    secretGet: secretGet(concAgent),
  };

  const hsmKinds: readonly Kind[] = ['gwRsaHsm', 'gnRsa', 'p11Rsa', 'gwEcHsm', 'gnEc', 'p11Ec'];
  const order = (Object.keys(LABELS) as Kind[]).filter((k) => !hsmSkipped || !hsmKinds.includes(k));
  const concurrentOrder = order.filter((k) => concurrent[k] !== undefined);

  // The HSM floors sign what the gateway signs: RSA PKCS#1 v1.5 is deterministic, so equal bytes
  // say it is the same key object in the same token. The graphene-pk11 signatures are also verified
  // with node:crypto against the public JWK the gateway returned (ECDSA: raw r‖s, ieee-p1363).
  if (rsaHsm && ecHsm && p11RsaKey) {
    const res = await httpsCall(
      seqAgent,
      `${vaultUrl}/keys/${rsaHsm.name}/${rsaHsm.version}/sign?${KEYS_API}`,
      'POST',
      json,
      JSON.stringify({ alg: 'RS256', value: digestsB64[0] }),
    );
    const viaGateway = Buffer.from((JSON.parse(res.text) as { value: string }).value, 'base64url');
    if (!viaGateway.equals(await p11RsaKey.sign('RS256', digests[0] as Buffer)))
      throw new Error('the HsmKey.sign floor did not sign with the gateway’s key');
    const viaGraphene = gn(gnRsaKey, 'RS256')(0);
    clearOpenSslErrorQueue();
    if (!viaGateway.equals(viaGraphene))
      throw new Error('the graphene-pk11 floor did not sign with the gateway’s key');
    check(rsaHsm, 'RS256', 0, viaGraphene);
    const ecViaGraphene = gn(gnEcKey, 'ES256')(0);
    clearOpenSslErrorQueue();
    if (ecViaGraphene.length !== ecSize) throw new Error('graphene-pk11: bad ECDSA signature length');
    check(ecHsm, 'ES256', 0, ecViaGraphene);
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
  else
    console.log(
      `  HSM floors on ${graphene?.library}: graphene-pk11 ${GRAPHENE_VERSION} and HsmKey.sign, ` +
        `both over pkcs11js ${PKCS11JS_VERSION}; RS256 = CKM_RSA_PKCS over DigestInfo‖digest, ` +
        `ES256 = CKM_ECDSA over the digest; graphene: ${graphene?.notes.join('; ')}`,
    );
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
  const hsmSummary = summary.filter((s) => s.tier === 'hsm');
  if (hsmSummary.length > 0) {
    console.log('HSM tier, p50 (p99): gateway ÷ graphene-pk11 floor (the headline), ÷ HsmKey.sign floor:');
    console.log(
      table([
        ['key', 'gateway', 'graphene floor', 'HsmKey.sign floor', 'gw ÷ graphene', 'gw ÷ HsmKey.sign'],
        ...hsmSummary.map((s) => {
          // PAIRS lists the HSM floors graphene-pk11 first, HsmKey.sign second.
          const [g, h] = Object.values(s.floors);
          if (!g || !h) throw new Error(`${s.name}: an HSM floor is missing`);
          return [
            s.name,
            `${ms(s.gatewayMs.p50)} (${ms(s.gatewayMs.p99)})`,
            `${ms(g.ms.p50)} (${ms(g.ms.p99)})`,
            `${ms(h.ms.p50)} (${ms(h.ms.p99)})`,
            `${ratio(g.ratio.p50)} (${ratio(g.ratio.p99)})`,
            `${ratio(h.ratio.p50)} (${ratio(h.ratio.p99)})`,
          ];
        }),
      ]),
    );
    console.log('');
  }
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
    hsm: hsmSkipped ? `skipped: ${hsmSkipped}` : (graphene?.library ?? 'SoftHSM2'),
    hsmFloor: {
      headline: 'graphene-pk11',
      graphene: GRAPHENE_VERSION,
      pkcs11js: PKCS11JS_VERSION,
      notes: graphene?.notes,
    },
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
  // graphene's session first (the Pkcs11Session's close finalises the module it initialised); graphene
  // finalises only if its own C_Initialize did the initialising. One C_Finalize in all.
  if (graphene) {
    try {
      graphene.session?.close();
      if (graphene.finalises) graphene.module.finalize();
    } finally {
      graphene.module.close();
    }
  }
  await hsmSession?.close();
  if (gateway) await stopGatewayProcess(gateway);
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
