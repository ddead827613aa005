import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import { makeTokenVerifier, type Principal } from '../auth/token-verifier.ts';
import { cacheVerifiedTokens } from '../auth/verified-token-cache.ts';
import { type Config, config } from '../config.ts';
import { Barrier } from '../crypto/barrier.ts';
import { CachingKeyring } from '../crypto/data-key-cache.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { LocalKeyring } from '../crypto/local-keyring.ts';
import type { AuditTable } from '../store/audit-items.ts';
import { DynamoAuditLog } from '../store/dynamo-audit-log.ts';
import { DynamoSecretStore } from '../store/dynamo-secret-store.ts';
import { DynamoVaultReader } from '../store/vault-items.ts';
import { newVersionId, nowSeconds } from './ids.ts';
import { kmsKeyring } from './kms.ts';
import { VaultDirectory } from './vault-directory.ts';

/**
 * What a handler container holds: clients and keyrings made once, on first
 * use (not at module load, so a cold start pays only for what it touches).
 */
export interface Container {
  readonly config: Config;
  readonly dynamo: DynamoDBClient;
  readonly keyring: Keyring;
  readonly barrier: Barrier;
  readonly verifyToken: (token: string) => Promise<Principal>;
  readonly secrets: {
    readonly store: DynamoSecretStore;
    readonly barrier: Barrier;
    readonly now: () => number;
    readonly newVersionId: () => string;
  };
  /** Vault writes (management and role assignment handlers only), with their audit records. */
  readonly auditTable: AuditTable | undefined;
  /** Undefined only when audit is off (benchmarks). */
  readonly auditLog: DynamoAuditLog | undefined;
  readonly vaults: VaultDirectory;
}

let current: Container | undefined;

export function container(): Container {
  current ??= build(config());
  return current;
}

function build(cfg: Config): Container {
  const dynamo = new DynamoDBClient({
    region: cfg.AWS_REGION,
    ...(cfg.ARCA_DYNAMODB_ENDPOINT && {
      endpoint: cfg.ARCA_DYNAMODB_ENDPOINT,
      // DynamoDB Local accepts any credentials; on AWS the role's are used.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  const keyring = new CachingKeyring(baseKeyring(cfg), {
    maxAgeMs: cfg.ARCA_DATA_KEY_CACHE_MAX_AGE_MS,
    maxUses: cfg.ARCA_DATA_KEY_CACHE_MAX_USES,
    maxEntries: cfg.ARCA_DATA_KEY_CACHE_MAX_ENTRIES,
  });
  const barrier = new Barrier(keyring);
  const keys = cfg.ARCA_JWKS_FILE
    ? createLocalJWKSet(JSON.parse(readFileSync(cfg.ARCA_JWKS_FILE, 'utf8')))
    : createRemoteJWKSet(new URL(cfg.ARCA_JWKS_URL as string));
  const verifyToken = cacheVerifiedTokens(
    makeTokenVerifier({
      issuer: cfg.ARCA_TOKEN_ISSUER,
      audience: cfg.ARCA_TOKEN_AUDIENCE,
      tenantId: cfg.ARCA_TENANT_ID,
      keys,
    }),
  );
  const auditTable =
    cfg.ARCA_AUDIT === 'on'
      ? { name: cfg.ARCA_AUDIT_TABLE_NAME, hotDays: cfg.ARCA_AUDIT_HOT_DAYS }
      : undefined;

  return {
    config: cfg,
    dynamo,
    keyring,
    barrier,
    verifyToken,
    secrets: {
      store: new DynamoSecretStore(dynamo, cfg.ARCA_TABLE_NAME, auditTable),
      barrier,
      now: nowSeconds,
      newVersionId,
    },
    auditTable,
    auditLog: auditTable && new DynamoAuditLog(dynamo, auditTable),
    vaults: new VaultDirectory(
      new DynamoVaultReader(dynamo, cfg.ARCA_TABLE_NAME),
      cfg.ARCA_VAULT_CACHE_TTL_MS,
    ),
  };
}

function baseKeyring(cfg: Config): Keyring {
  if (cfg.ARCA_KEYRING === 'local') return LocalKeyring.fromFile(cfg.ARCA_LOCAL_MASTER_KEY_FILE as string);
  return kmsKeyring(cfg.ARCA_KMS_KEY_ID as string, cfg.AWS_REGION);
}
