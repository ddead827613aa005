/**
 * Configuration of a handler container, read once from the environment,
 * typed, and failing loudly at start. Domain code never reads process.env:
 * it is handed what it needs.
 *
 * Hand-written rather than a zod schema: every handler loads this module, and
 * zod is half of a handler bundle (bench/bundle-size.ts) for a dozen fields.
 */
export interface Config {
  readonly ARCA_TABLE_NAME: string;
  /** Set locally (DynamoDB Local); absent on AWS. */
  readonly ARCA_DYNAMODB_ENDPOINT?: string;
  readonly AWS_REGION: string;
  readonly ARCA_KEYRING: 'local' | 'kms';
  readonly ARCA_LOCAL_MASTER_KEY_FILE?: string;
  readonly ARCA_KMS_KEY_ID?: string;
  readonly ARCA_DATA_KEY_CACHE_MAX_AGE_MS: number;
  readonly ARCA_DATA_KEY_CACHE_MAX_USES: number;
  readonly ARCA_DATA_KEY_CACHE_MAX_ENTRIES: number;
  /** Tokens: expected issuer and audience, and where the issuer's keys are. */
  readonly ARCA_TOKEN_ISSUER: string;
  readonly ARCA_TOKEN_AUDIENCE: string;
  readonly ARCA_JWKS_URL?: string;
  /** A JWKS document on disk (local mode: the local issuer's keys). */
  readonly ARCA_JWKS_FILE?: string;
  /** The 401 challenge: `authorization` is {authority}/{tenant}; `resource` the token audience. */
  readonly ARCA_TENANT_ID: string;
  readonly ARCA_CHALLENGE_AUTHORITY: string;
  readonly ARCA_CHALLENGE_RESOURCE: string;
  /** Vault hosts are {vault}.{domain}; a request to the bare domain goes to the default vault, if any. */
  readonly ARCA_VAULT_DOMAIN: string;
  readonly ARCA_DEFAULT_VAULT?: string;
  readonly ARCA_SOFT_DELETE_RETENTION_DAYS: number;
  /** How long a container trusts its copy of a vault's properties, policies and role assignments. */
  readonly ARCA_VAULT_CACHE_TTL_MS: number;
  /** Deployment roles (management plane): object ids of principals or groups, comma-separated. */
  readonly ARCA_ADMINISTRATORS: readonly string[];
  readonly ARCA_CONTRIBUTORS: readonly string[];
  readonly ARCA_READERS: readonly string[];
  /** Principals or groups who may read any vault's audit records (the audit reader role). */
  readonly ARCA_AUDIT_READERS: readonly string[];
  /** 'off' only for measuring audit's cost (bench/); a deployment never turns it off. */
  readonly ARCA_AUDIT: 'on' | 'off';
  readonly ARCA_AUDIT_TABLE_NAME: string;
  /** How long records stay queryable in the audit table (TTL); the log sink keeps them after. */
  readonly ARCA_AUDIT_HOT_DAYS: number;

  /**
   * Where HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) live: a PKCS#11 token
   * (SoftHSM2 locally, CloudHSM on AWS), AWS KMS, or nowhere (HSM key types
   * are then refused with a message that says how to enable them).
   */
  readonly ARCA_HSM: 'off' | 'pkcs11' | 'kms';
  /** PKCS#11: the module (.so), the token's label, and its USER PIN (or a file holding it). Never logged. */
  readonly ARCA_PKCS11_MODULE?: string;
  readonly ARCA_PKCS11_TOKEN_LABEL?: string;
  /** The slot's ID (decimal, or 0x hex): the token is taken from that slot, and must have the label. */
  readonly ARCA_PKCS11_SLOT?: bigint;
  readonly ARCA_PKCS11_PIN?: string;
  readonly ARCA_PKCS11_PIN_FILE?: string;
  /** A Secrets Manager secret (name or ARN) holding the PIN, read when the session is first opened. */
  readonly ARCA_PKCS11_PIN_SECRET?: string;
  /**
   * The CKA_LABEL of the token's trusted AES backup key (CKA_TRUSTED, set by
   * the security officer): with it, HSM keys back up, wrapped under it; without
   * it, they are never extractable and BackupKey refuses them.
   */
  readonly ARCA_PKCS11_BACKUP_KEY?: string;
  /** Why HSM keys are off, shown to callers who ask for one (local mode sets it). */
  readonly ARCA_HSM_OFF_REASON?: string;
  /** The CloudHSM cluster the health route reports on. */
  readonly ARCA_CLOUDHSM_CLUSTER_ID?: string;
}

type Env = Record<string, string | undefined>;

/** A PKCS#11 slot ID (CK_SLOT_ID, 64 bits) written in decimal or 0x hex; undefined when it is none. */
export function parseSlotId(value: string): bigint | undefined {
  if (!/^(\d{1,20}|0x[0-9a-fA-F]{1,16})$/.test(value)) return undefined;
  const id = BigInt(value);
  return id < 2n ** 64n ? id : undefined;
}

export function parseConfig(env: Env): Config {
  const problems: string[] = [];
  const text = (name: string, fallback?: string): string => {
    const value = env[name] || fallback;
    if (!value) problems.push(`${name}: required`);
    return value ?? '';
  };
  const optional = (name: string): string | undefined => env[name] || undefined;
  const slot = (value: string | undefined): bigint | undefined => {
    if (value === undefined) return undefined;
    const id = parseSlotId(value);
    if (id === undefined) {
      problems.push('ARCA_PKCS11_SLOT: must be a slot ID, a whole number (decimal, or hex with 0x)');
    }
    return id;
  };
  const url = (name: string, value: string | undefined): string | undefined => {
    if (value !== undefined && !URL.canParse(value)) problems.push(`${name}: must be a URL`);
    return value;
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${name}: must be an integer ${min}-${max}`);
    return value;
  };
  const list = (name: string): string[] =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
  const keyring = text('ARCA_KEYRING', 'kms');
  const hsm = env.ARCA_HSM || 'off';
  if (hsm !== 'off' && hsm !== 'pkcs11' && hsm !== 'kms')
    problems.push("ARCA_HSM: must be 'off', 'pkcs11' or 'kms'");
  if (keyring !== 'local' && keyring !== 'kms') problems.push("ARCA_KEYRING: must be 'local' or 'kms'");

  const config: Config = {
    ARCA_TABLE_NAME: text('ARCA_TABLE_NAME', 'arca'),
    ARCA_DYNAMODB_ENDPOINT: url('ARCA_DYNAMODB_ENDPOINT', optional('ARCA_DYNAMODB_ENDPOINT')),
    AWS_REGION: text('AWS_REGION', 'us-east-1'),
    ARCA_KEYRING: keyring as Config['ARCA_KEYRING'],
    ARCA_LOCAL_MASTER_KEY_FILE: optional('ARCA_LOCAL_MASTER_KEY_FILE'),
    ARCA_KMS_KEY_ID: optional('ARCA_KMS_KEY_ID'),
    ARCA_DATA_KEY_CACHE_MAX_AGE_MS: int('ARCA_DATA_KEY_CACHE_MAX_AGE_MS', 300_000, 0),
    ARCA_DATA_KEY_CACHE_MAX_USES: int('ARCA_DATA_KEY_CACHE_MAX_USES', 10_000, 0),
    ARCA_DATA_KEY_CACHE_MAX_ENTRIES: int('ARCA_DATA_KEY_CACHE_MAX_ENTRIES', 1_000, 0),
    ARCA_TOKEN_ISSUER: text('ARCA_TOKEN_ISSUER'),
    ARCA_TOKEN_AUDIENCE: text('ARCA_TOKEN_AUDIENCE', 'https://vault.azure.net'),
    ARCA_JWKS_URL: url('ARCA_JWKS_URL', optional('ARCA_JWKS_URL')),
    ARCA_JWKS_FILE: optional('ARCA_JWKS_FILE'),
    ARCA_TENANT_ID: text('ARCA_TENANT_ID'),
    ARCA_CHALLENGE_AUTHORITY: url('ARCA_CHALLENGE_AUTHORITY', text('ARCA_CHALLENGE_AUTHORITY')) as string,
    ARCA_CHALLENGE_RESOURCE: url(
      'ARCA_CHALLENGE_RESOURCE',
      text('ARCA_CHALLENGE_RESOURCE', 'https://vault.azure.net'),
    ) as string,
    ARCA_VAULT_DOMAIN: text('ARCA_VAULT_DOMAIN', 'localhost').toLowerCase(),
    ARCA_DEFAULT_VAULT: optional('ARCA_DEFAULT_VAULT'),
    ARCA_SOFT_DELETE_RETENTION_DAYS: int('ARCA_SOFT_DELETE_RETENTION_DAYS', 90, 7, 90),
    ARCA_VAULT_CACHE_TTL_MS: int('ARCA_VAULT_CACHE_TTL_MS', 5_000, 0),
    ARCA_ADMINISTRATORS: list('ARCA_ADMINISTRATORS'),
    ARCA_CONTRIBUTORS: list('ARCA_CONTRIBUTORS'),
    ARCA_READERS: list('ARCA_READERS'),
    ARCA_AUDIT_READERS: list('ARCA_AUDIT_READERS'),
    ARCA_AUDIT: env.ARCA_AUDIT === 'off' ? 'off' : 'on',
    ARCA_AUDIT_TABLE_NAME: text('ARCA_AUDIT_TABLE_NAME', `${env.ARCA_TABLE_NAME || 'arca'}-audit`),
    ARCA_AUDIT_HOT_DAYS: int('ARCA_AUDIT_HOT_DAYS', 90, 1, 3650),
    ARCA_HSM: hsm as Config['ARCA_HSM'],
    ARCA_PKCS11_MODULE: optional('ARCA_PKCS11_MODULE'),
    ARCA_PKCS11_TOKEN_LABEL: optional('ARCA_PKCS11_TOKEN_LABEL'),
    ARCA_PKCS11_SLOT: slot(optional('ARCA_PKCS11_SLOT')),
    ARCA_PKCS11_PIN: optional('ARCA_PKCS11_PIN'),
    ARCA_PKCS11_PIN_FILE: optional('ARCA_PKCS11_PIN_FILE'),
    ARCA_PKCS11_PIN_SECRET: optional('ARCA_PKCS11_PIN_SECRET'),
    ARCA_PKCS11_BACKUP_KEY: optional('ARCA_PKCS11_BACKUP_KEY'),
    ARCA_HSM_OFF_REASON: optional('ARCA_HSM_OFF_REASON'),
    ARCA_CLOUDHSM_CLUSTER_ID: optional('ARCA_CLOUDHSM_CLUSTER_ID'),
  };
  if (config.ARCA_HSM === 'pkcs11') {
    if (!config.ARCA_PKCS11_MODULE) problems.push('ARCA_PKCS11_MODULE: required when ARCA_HSM=pkcs11');
    if (!config.ARCA_PKCS11_TOKEN_LABEL)
      problems.push('ARCA_PKCS11_TOKEN_LABEL: required when ARCA_HSM=pkcs11');
    const pinSources = [config.ARCA_PKCS11_PIN, config.ARCA_PKCS11_PIN_FILE, config.ARCA_PKCS11_PIN_SECRET];
    if (pinSources.filter(Boolean).length !== 1)
      problems.push(
        'ARCA_PKCS11_PIN, ARCA_PKCS11_PIN_FILE or ARCA_PKCS11_PIN_SECRET: exactly one is required when ARCA_HSM=pkcs11',
      );
  }
  if (config.ARCA_KEYRING === 'kms' && !config.ARCA_KMS_KEY_ID)
    problems.push('ARCA_KMS_KEY_ID: required when ARCA_KEYRING=kms');
  if (config.ARCA_KEYRING === 'local' && !config.ARCA_LOCAL_MASTER_KEY_FILE) {
    problems.push('ARCA_LOCAL_MASTER_KEY_FILE: required when ARCA_KEYRING=local');
  }
  if (!config.ARCA_JWKS_URL && !config.ARCA_JWKS_FILE)
    problems.push('ARCA_JWKS_URL or ARCA_JWKS_FILE: one is required');
  if (problems.length > 0) throw new Error(`Arca configuration is invalid: ${problems.join('; ')}`);
  return config;
}

let cached: Config | undefined;

/** The container's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
