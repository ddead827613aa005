import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { closeSharedPkcs11Sessions } from '../keys/hsm/pkcs11-session.ts';
import { createAuditTableIfMissing, createTableIfMissing } from '../store/create-table.ts';
import { DynamoVaultStore } from '../store/dynamo-vault-store.ts';
import { newVault } from '../vaults/new-vault.ts';
import { startAuditStreamPoller } from './audit-stream-poller.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.ts';
import { startEventPipeline, sweepIntervalFrom } from './event-stream-poller.ts';
import { createGateway, loadHandlers } from './gateway.ts';
import { localKeyRotationSweep } from './key-rotation-timer.ts';
import { ensureLocalCa } from './local-ca.ts';
import { configureLocalHsm } from './local-hsm.ts';
import { LocalIssuer } from './oidc-issuer.ts';

export interface LocalVaultOptions {
  /** Where keys, CA, issuer state and DynamoDB Local's files live. */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local (tests share one). */
  readonly dynamoDbEndpoint?: string;
  readonly tableName?: string;
  readonly defaultVault?: string;
  /** Extra handler settings (ARCA_* variables), e.g. a short retention in tests. */
  readonly env?: Readonly<Record<string, string>>;
}

/** What local.json holds: everything a client needs to talk to this vault. */
export interface LocalVaultInfo {
  readonly vaultUrl: string;
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly caCertPath: string;
  /** Where DynamoDB Local listens, for tools that want to look at the table. */
  readonly dynamoDbEndpoint: string;
}

export interface LocalVault {
  readonly info: LocalVaultInfo;
  readonly port: number;
  readonly issuer: LocalIssuer;
  readonly dynamoDbEndpoint: string;
  /** One line: where HSM keys live, or why they are off. */
  readonly hsmSummary: string;
  close(): Promise<void>;
}

/**
 * Local mode: DynamoDB Local, a local CA, a local OIDC issuer, and an HTTPS
 * gateway in front of the very handler modules Lambda runs. Handlers are
 * configured through the same ARCA_* variables as on AWS.
 */
export async function startLocalVault(options: LocalVaultOptions): Promise<LocalVault> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tenantId = localTenant(dataDir);
  const tls = await ensureLocalCa(join(dataDir, 'tls'));
  const dynamo: DynamoDbLocal = options.dynamoDbEndpoint
    ? { endpoint: options.dynamoDbEndpoint, stop: async () => undefined }
    : await startDynamoDbLocal({ dataPath: join(dataDir, 'dynamodb') });
  const server = createServer({
    cert: tls.certPem,
    key: tls.keyPem,
    keepAliveTimeout: 30_000,
    SNICallback: vaultHostCertificates(join(dataDir, 'tls')),
  });
  try {
    const tableName = options.tableName ?? 'arca';
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTableIfMissing(client, tableName);
    await createAuditTableIfMissing(client, options.env?.ARCA_AUDIT_TABLE_NAME ?? `${tableName}-audit`);
    client.destroy();

    const port = await listen(server, options.port, options.host ?? '127.0.0.1');
    const authorityHost = `https://localhost:${port}`;
    const issuer = await LocalIssuer.open({ dir: join(dataDir, 'issuer'), authorityHost, tenantId });
    const hsm = await configureLocalHsm(dataDir);
    Object.assign(process.env, {
      ...hsm.env,
      ARCA_TABLE_NAME: tableName,
      ARCA_DYNAMODB_ENDPOINT: dynamo.endpoint,
      ARCA_KEYRING: 'local',
      ARCA_LOCAL_MASTER_KEY_FILE: join(dataDir, 'keys', 'master.key'),
      ARCA_TOKEN_ISSUER: issuer.issuer,
      ARCA_TOKEN_AUDIENCE: 'https://vault.azure.net',
      ARCA_JWKS_FILE: issuer.jwksPath,
      ARCA_TENANT_ID: tenantId,
      ARCA_CHALLENGE_AUTHORITY: authorityHost,
      ARCA_CHALLENGE_RESOURCE: 'https://vault.azure.net',
      ARCA_VAULT_DOMAIN: 'localhost',
      ARCA_DEFAULT_VAULT: options.defaultVault ?? 'dev',
      ...options.env,
    });
    const dev = await issuer.ensureDevClient();
    process.env.ARCA_ADMINISTRATORS = [dev.objectId, options.env?.ARCA_ADMINISTRATORS]
      .filter(Boolean)
      .join(',');
    await ensureDefaultVault(
      dynamo.endpoint,
      tableName,
      options.defaultVault ?? 'dev',
      tenantId,
      dev.objectId,
    );
    server.on(
      'request',
      createGateway(await loadHandlers(), (request) => issuer.handle(request)),
    );

    const info: LocalVaultInfo = {
      vaultUrl: `https://localhost:${port}`,
      authorityHost,
      tenantId,
      clientId: dev.clientId,
      clientSecret: dev.clientSecret,
      caCertPath: tls.caCertPath,
      dynamoDbEndpoint: dynamo.endpoint,
    };
    const infoPath = join(dataDir, 'local.json');
    writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    chmodSync(infoPath, 0o600); // the mode option applies only when the file is new

    // Audit records, from the audit table's stream, to {dataDir}/audit.jsonl (and stdout when asked).
    const auditPoller = startAuditStreamPoller({
      endpoint: dynamo.endpoint,
      tableName: options.env?.ARCA_AUDIT_TABLE_NAME ?? `${tableName}-audit`,
      dataDir,
      stdout: process.env.ARCA_AUDIT_STDOUT === '1',
    });
    // Vault events: both streams and the expiry sweep, to {dataDir}/events.jsonl (and a webhook when set).
    const events = startEventPipeline({
      endpoint: dynamo.endpoint,
      tableName,
      auditTableName: options.env?.ARCA_AUDIT_TABLE_NAME ?? `${tableName}-audit`,
      dataDir,
      vaultUrl: (vault) => `https://${vault}.localhost:${port}`,
      webhookUrl: process.env.ARCA_EVENTS_WEBHOOK_URL || undefined,
      sweepIntervalMs: sweepIntervalFrom(process.env),
      keyRotation: localKeyRotationSweep((vault) => `https://${vault}.localhost:${port}`),
    });
    return {
      info,
      port,
      issuer,
      dynamoDbEndpoint: dynamo.endpoint,
      hsmSummary: hsm.summary,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
        await events.stop();
        await auditPoller.stop();
        await closeSharedPkcs11Sessions();
        await dynamo.stop();
      },
    };
  } catch (error) {
    server.close();
    await dynamo.stop();
    throw error;
  }
}

/**
 * Node, curl and browsers refuse a `*.localhost` wildcard, so each vault host
 * ({vault}.localhost) gets its name added to the server certificate, issued by
 * the local CA the first time a client asks for that name.
 */
function vaultHostCertificates(tlsDir: string) {
  const contexts = new Map<string, Promise<SecureContext>>();
  return (servername: string, done: (error: Error | null, context?: SecureContext) => void) => {
    const name = servername.toLowerCase();
    if (!/^[a-z][a-z0-9-]{1,22}[a-z0-9]\.localhost$/.test(name) || contexts.size > 1000) return done(null);
    let context = contexts.get(name);
    if (!context) {
      context = ensureLocalCa(tlsDir, { hostNames: [name] }).then((t) =>
        createSecureContext({ cert: t.certPem, key: t.keyPem }),
      );
      contexts.set(name, context);
    }
    context.then(
      (c) => done(null, c),
      (error: Error) => done(error),
    );
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done((server.address() as AddressInfo).port));
  });
}

/** The default vault (premium, RBAC), made on first start with the development client as its administrator. */
async function ensureDefaultVault(
  endpoint: string,
  tableName: string,
  name: string,
  tenantId: string,
  admin: string,
) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const store = new DynamoVaultStore(client, tableName);
  try {
    if (await store.get(name)) return;
    const properties = {
      tenantId,
      sku: 'premium' as const,
      enableRbacAuthorization: true,
      accessPolicies: [],
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: false,
    };
    await store.create(
      newVault(name, properties, { objectId: admin }, Math.floor(Date.now() / 1000), randomUUID),
    );
  } finally {
    client.destroy();
  }
}

/** The local tenant id, made on first start and kept. */
function localTenant(dataDir: string): string {
  const file = join(dataDir, 'tenant.json');
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { tenantId: string }).tenantId;
  const tenantId = randomUUID();
  writeFileSync(file, `${JSON.stringify({ tenantId })}\n`, { mode: 0o600 });
  return tenantId;
}
