import { createPrivateKey, type webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

installReflectMetadata();
const x509 = await import('@peculiar/x509');
x509.cryptoProvider.set(globalThis.crypto);

/** What the local HTTPS gateway needs; clients trust `caCertPath` through NODE_EXTRA_CA_CERTS. */
export interface LocalTls {
  caCertPath: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

export interface EnsureLocalCaOptions {
  /**
   * More names the server certificate must cover, such as `myvault.localhost`. Node, curl and the
   * browsers refuse the `*.localhost` wildcard (a wildcard right above a top-level name), so each
   * vault host has to be listed. Names accumulate: a re-issued certificate keeps earlier ones.
   */
  hostNames?: string[];
  /** The clock, for tests of renewal. */
  now?: Date;
}

interface CertAndKey {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
// Browsers and Apple platforms refuse TLS server certificates valid for more than 398 days.
const SERVER_VALIDITY_DAYS = 397;
const RENEW_WITHIN_DAYS = 30;
const BACKDATE_MS = 3_600_000;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
const CA_NAME = 'CN=Arca Local Development CA';
const BASE_DNS_NAMES = ['localhost', '*.localhost'];
const IP_ADDRESSES = ['127.0.0.1', '::1'];
const LOCALHOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*localhost$/;

/**
 * Makes sure `dir` holds a local development CA (ca.pem, ca-key.pem) and a localhost server
 * certificate it signed (server.pem, server-key.pem), creating them on first use. Existing files
 * are returned as they are; the server certificate alone is re-issued, from the same CA, when it
 * expires within 30 days, does not match its key, was not signed by the CA or lacks a host name.
 */
export async function ensureLocalCa(dir: string, options: EnsureLocalCaOptions = {}): Promise<LocalTls> {
  const now = options.now ?? new Date();
  const wanted = (options.hostNames ?? []).map(checkHostName);
  const paths = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });

  let ca = await readPair(paths.caCert, paths.caKey);
  let server = await readPair(paths.cert, paths.key);
  if (!ca || !isUsable(ca, now)) {
    ca = await createCa(now);
    await writeAtomic(paths.caKey, ca.keyPem, 0o600);
    await writeAtomic(paths.caCert, ca.certPem, 0o644);
    server = undefined;
  }
  const covered = server ? dnsNames(server.certPem) : [];
  const missing = wanted.filter((name) => !covered.includes(name));
  if (!server || missing.length > 0 || !isUsable(server, now) || !isIssuedBy(server.certPem, ca.certPem)) {
    const names = [...new Set([...BASE_DNS_NAMES, ...covered, ...wanted])];
    server = await issueServerCert(ca, names, now);
    await writeAtomic(paths.key, server.keyPem, 0o600);
    await writeAtomic(paths.cert, server.certPem, 0o600);
  }
  return { caCertPath: paths.caCert, caCertPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}

function checkHostName(name: string): string {
  const lower = name.toLowerCase();
  // The CA's name constraints would make any other name fail verification anyway.
  if (!LOCALHOST_NAME.test(lower)) throw new Error(`not a localhost host name: ${JSON.stringify(name)}`);
  return lower;
}

async function createCa(now: Date): Promise<CertAndKey> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: CA_NAME,
    keys,
    serialNumber: randomSerial(),
    ...validity(now, CA_VALIDITY_DAYS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      localhostOnlyConstraints(),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportPkcs8Pem(keys.privateKey) };
}

async function issueServerCert(ca: CertAndKey, names: string[], now: Date): Promise<CertAndKey> {
  const keys = await generateKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: await importPkcs8Pem(ca.keyPem),
    serialNumber: randomSerial(),
    ...validity(now, SERVER_VALIDITY_DAYS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.map((value) => ({ type: 'dns' as const, value })),
        ...IP_ADDRESSES.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportPkcs8Pem(keys.privateKey) };
}

/**
 * Name constraints (critical) limit the CA to localhost names and loopback addresses, so a copy of
 * ca-key.pem cannot mint a certificate for any other site, even where the CA has been trusted
 * system-wide. DER of NameConstraints { permittedSubtrees [0] { dNSName, iPAddress/mask ... } }.
 */
function localhostOnlyConstraints(): X509.Extension {
  const subtree = (tag: number, value: Buffer) => der(0x30, der(tag, value));
  const permitted = Buffer.concat([
    subtree(0x82, Buffer.from('localhost', 'ascii')),
    subtree(0x87, Buffer.from([127, 0, 0, 1, 255, 255, 255, 255])),
    subtree(0x87, Buffer.concat([Buffer.alloc(15), Buffer.from([1]), Buffer.alloc(16, 0xff)])),
  ]);
  return new x509.Extension('2.5.29.30', true, der(0x30, der(0xa0, permitted)));
}

function der(tag: number, content: Buffer): Buffer {
  if (content.length > 0xff) throw new Error('DER content too long for this encoder');
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

/** Backdated an hour for clock skew; the whole span stays within `days`. */
function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

function isUsable(pair: CertAndKey, now: Date): boolean {
  const cert = new X509Certificate(pair.certPem);
  const renewAt = Date.parse(cert.validTo) - RENEW_WITHIN_DAYS * DAY_MS;
  return now.getTime() < renewAt && cert.checkPrivateKey(createPrivateKey(pair.keyPem));
}

function dnsNames(certPem: string): string[] {
  const names = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension)?.names;
  return (names?.toJSON() ?? []).filter((name) => name.type === 'dns').map((name) => name.value);
}

function isIssuedBy(certPem: string, caCertPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caCertPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportPkcs8Pem(key: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

async function importPkcs8Pem(pem: string): Promise<CryptoKey> {
  const pkcs8 = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', pkcs8, KEY_ALGORITHM, false, ['sign']);
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

async function readPair(certPath: string, keyPath: string): Promise<CertAndKey | undefined> {
  try {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a PEM. */
async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  await writeFile(temporary, content, { mode, flag: 'wx' });
  await rename(temporary, path);
}

/**
 * @peculiar/x509 registers its algorithms through tsyringe, which refuses to load unless the
 * Reflect metadata API exists, and no polyfill (reflect-metadata, core-js) is a dependency yet.
 * This is a small but complete Map-backed version of that API, installed only when it is missing;
 * replace it with `import 'reflect-metadata'` once that package is added.
 */
function installReflectMetadata(): void {
  type Key = unknown;
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<Key, Map<Key, unknown>>>();
  const table = (target: object, property: Key, create: boolean): Map<Key, unknown> | undefined => {
    const byProperty = store.get(target) ?? new Map<Key, Map<Key, unknown>>();
    const entries = byProperty.get(property) ?? new Map<Key, unknown>();
    if (!create) return byProperty.get(property);
    store.set(target, byProperty);
    byProperty.set(property, entries);
    return entries;
  };
  const defineMetadata = (key: Key, value: unknown, target: object, property?: Key) =>
    table(target, property, true)?.set(key, value);
  const hasOwnMetadata = (key: Key, target: object, property?: Key) =>
    table(target, property, false)?.has(key) ?? false;
  const getOwnMetadata = (key: Key, target: object, property?: Key) =>
    table(target, property, false)?.get(key);
  const owner = (key: Key, target: object, property?: Key): object | null => {
    for (let at: object | null = target; at; at = Object.getPrototypeOf(at)) {
      if (hasOwnMetadata(key, at, property)) return at;
    }
    return null;
  };
  Object.assign(reflect, {
    defineMetadata,
    hasOwnMetadata,
    getOwnMetadata,
    hasMetadata: (key: Key, target: object, property?: Key) => owner(key, target, property) !== null,
    getMetadata: (key: Key, target: object, property?: Key) => {
      const at = owner(key, target, property);
      return at ? getOwnMetadata(key, at, property) : undefined;
    },
    metadata: (key: Key, value: unknown) => (target: object, property?: Key) =>
      defineMetadata(key, value, target, property),
  });
}
