import { z } from 'zod';

/**
 * Configuration of a handler container, read once from the environment,
 * typed, and failing loudly at start. Domain code never reads process.env:
 * it is handed what it needs.
 */
const schema = z.object({
  ARCA_TABLE_NAME: z.string().min(1).default('arca'),
  /** Set locally (DynamoDB Local); absent on AWS. */
  ARCA_DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),

  ARCA_KEYRING: z.enum(['local', 'kms']).default('kms'),
  ARCA_LOCAL_MASTER_KEY_FILE: z.string().min(1).optional(),
  ARCA_KMS_KEY_ID: z.string().min(1).optional(),
  ARCA_DATA_KEY_CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).default(300_000),
  ARCA_DATA_KEY_CACHE_MAX_USES: z.coerce.number().int().min(0).default(10_000),
  ARCA_DATA_KEY_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).default(1_000),

  /** Tokens: expected issuer and audience, and where the issuer's keys are. */
  ARCA_TOKEN_ISSUER: z.string().min(1),
  ARCA_TOKEN_AUDIENCE: z.string().min(1).default('https://vault.azure.net'),
  ARCA_JWKS_URL: z.url().optional(),
  /** A JWKS document on disk (local mode: the local issuer's keys). */
  ARCA_JWKS_FILE: z.string().min(1).optional(),
  /** The 401 challenge: `authorization` is {authority}/{tenant}; `resource` the token audience. */
  ARCA_TENANT_ID: z.string().min(1),
  ARCA_CHALLENGE_AUTHORITY: z.url(),
  ARCA_CHALLENGE_RESOURCE: z.url().default('https://vault.azure.net'),

  /** Vault hosts are {vault}.{domain}; a request to the bare domain goes to the default vault, if any. */
  ARCA_VAULT_DOMAIN: z.string().min(1).default('localhost'),
  ARCA_DEFAULT_VAULT: z.string().min(1).optional(),
  ARCA_SOFT_DELETE_RETENTION_DAYS: z.coerce.number().int().min(7).max(90).default(90),
});

export type Config = z.infer<typeof schema>;

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Arca configuration is invalid: ${problems}`);
  }
  const config = result.data;
  if (config.ARCA_KEYRING === 'kms' && !config.ARCA_KMS_KEY_ID) {
    throw new Error('Arca configuration is invalid: ARCA_KMS_KEY_ID is required when ARCA_KEYRING=kms');
  }
  if (config.ARCA_KEYRING === 'local' && !config.ARCA_LOCAL_MASTER_KEY_FILE) {
    throw new Error(
      'Arca configuration is invalid: ARCA_LOCAL_MASTER_KEY_FILE is required when ARCA_KEYRING=local',
    );
  }
  if (!config.ARCA_JWKS_URL && !config.ARCA_JWKS_FILE) {
    throw new Error('Arca configuration is invalid: one of ARCA_JWKS_URL or ARCA_JWKS_FILE is required');
  }
  return config;
}

let cached: Config | undefined;

/** The container's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
