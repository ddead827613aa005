/**
 * KMS calls per 1,000 reads of one hot secret version, counted at the
 * KmsKeyring. The keyring talks to an in-memory stand-in for KMS (real
 * AES-256-GCM, EncryptionContext enforced); the data-key cache has the
 * production limits; the store is the real DynamoSecretStore on DynamoDB Local.
 *
 * A "container" is what one Lambda container holds: one KmsKeyring wrapped in
 * one CachingKeyring, one Barrier, one store. Prints figures only.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { parseConfig } from '#lib/config.ts';
import { Barrier } from '#lib/crypto/barrier.ts';
import { CachingKeyring, type DataKeyCacheLimits, defaultCacheLimits } from '#lib/crypto/data-key-cache.ts';
import { CryptoIntegrityError } from '#lib/crypto/errors.ts';
import { canonicalContext } from '#lib/crypto/keyring.ts';
import { KmsKeyring } from '#lib/crypto/kms-keyring.ts';
import { newVersionId, nowSeconds } from '#lib/runtime/ids.ts';
import { makeGetSecret } from '#lib/secrets/get-secret.ts';
import { makeSetSecret } from '#lib/secrets/set-secret.ts';
import { createTableIfMissing } from '#lib/store/create-table.ts';
import { DynamoSecretStore } from '#lib/store/dynamo-secret-store.ts';
import { benchDynamoDb, dynamoClient, printBenchJson, table, verdict } from './support/common.ts';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000';
const VAULT = 'bench';
const TARGET_PER_1000 = 1;

/**
 * KMS in memory: GenerateDataKey and Decrypt under one AES-256-GCM key, the
 * EncryptionContext bound as additional data, so a Decrypt with another
 * context fails as KMS fails it (InvalidCiphertextException).
 */
class FakeKms {
  readonly counts = { GenerateDataKey: 0, Decrypt: 0 };
  private readonly kek = randomBytes(32);

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GenerateDataKeyCommand) {
      this.counts.GenerateDataKey++;
      const { KeyId, KeySpec, EncryptionContext } = command.input;
      if (KeyId !== KEY_ID || KeySpec !== 'AES_256') throw kmsError('ValidationException');
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.kek, iv);
      cipher.setAAD(Buffer.from(canonicalContext(EncryptionContext ?? {})));
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        KeyId,
        Plaintext: new Uint8Array(plaintext),
        CiphertextBlob: new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), ct])),
      };
    }
    if (command instanceof DecryptCommand) {
      this.counts.Decrypt++;
      const { KeyId, CiphertextBlob, EncryptionContext } = command.input;
      if (KeyId !== KEY_ID) throw kmsError('IncorrectKeyException');
      const blob = Buffer.from(CiphertextBlob ?? new Uint8Array());
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.kek, blob.subarray(0, 12));
        decipher.setAAD(Buffer.from(canonicalContext(EncryptionContext ?? {})));
        decipher.setAuthTag(blob.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
        return { KeyId, Plaintext: new Uint8Array(plaintext) };
      } catch {
        throw kmsError('InvalidCiphertextException');
      }
    }
    throw new Error(`the fake KMS does not answer ${(command as object).constructor.name}`);
  }
}

function kmsError(name: string): Error {
  return Object.assign(new Error(name), { name, $fault: 'client', $metadata: {} });
}

const dynamo = await benchDynamoDb();
const client = dynamoClient(dynamo.endpoint);
const tableName = `bench-kms-${randomBytes(4).toString('hex')}`;
const kms = new FakeKms();

// The limits a deployed container gets: lib/config.ts's defaults, which must be defaultCacheLimits.
const cfg = parseConfig({
  ARCA_KMS_KEY_ID: KEY_ID,
  ARCA_TOKEN_ISSUER: 'https://issuer.example/v2.0',
  ARCA_JWKS_URL: 'https://issuer.example/keys',
  ARCA_TENANT_ID: 'bench',
  ARCA_CHALLENGE_AUTHORITY: 'https://issuer.example',
});
const limits: DataKeyCacheLimits = {
  maxAgeMs: cfg.ARCA_DATA_KEY_CACHE_MAX_AGE_MS,
  maxUses: cfg.ARCA_DATA_KEY_CACHE_MAX_USES,
  maxEntries: cfg.ARCA_DATA_KEY_CACHE_MAX_ENTRIES,
};
const configMatchesDefaults = JSON.stringify(limits) === JSON.stringify(defaultCacheLimits);

/** `clock` drives the data-key cache's maxAgeMs (the real clock unless a scenario simulates time). */
function newContainer(clock: () => number = Date.now) {
  const kmsKeyring = new KmsKeyring(kms as unknown as Pick<KMSClient, 'send'>, KEY_ID);
  const deps = {
    store: new DynamoSecretStore(client, tableName),
    barrier: new Barrier(new CachingKeyring(kmsKeyring, limits, clock)),
    now: nowSeconds,
    newVersionId,
  };
  return { kmsKeyring, setSecret: makeSetSecret(deps), getSecret: makeGetSecret(deps) };
}

interface Scenario {
  readonly label: string;
  readonly reads: number;
  readonly kmsCalls: number;
  readonly per1000: number;
  readonly expected: number;
  /** Read numbers (1-based) that went to KMS. */
  readonly callAt: number[];
  readonly seconds: number;
  /** Not a hot-read scenario: shown, left out of the target. */
  readonly informational?: boolean;
}

/** The fake refuses a Decrypt under another context, as KMS does; checked on a fake of its own. */
async function fakeKmsEnforcesContext(): Promise<boolean> {
  const probe = new KmsKeyring(new FakeKms() as unknown as Pick<KMSClient, 'send'>, KEY_ID);
  const context = { vault: VAULT, kind: 'secret', name: 'probe', version: 'v1' };
  const dataKey = await probe.generateDataKey(context);
  if (!(await probe.unwrapDataKey(dataKey.wrapped, context)).equals(dataKey.plaintext)) return false;
  return probe.unwrapDataKey(dataKey.wrapped, { ...context, version: 'v2' }).then(
    () => false,
    (error: unknown) => error instanceof CryptoIntegrityError,
  );
}

try {
  if (!(await fakeKmsEnforcesContext())) throw new Error('the fake KMS does not enforce EncryptionContext');
  await createTableIfMissing(client, tableName);
  const name = `hot-${randomBytes(4).toString('hex')}`;
  const value = randomBytes(768).toString('base64');

  const readMany = async (container: ReturnType<typeof newContainer>, reads: number, tick = () => {}) => {
    const before = container.kmsKeyring.calls;
    const callAt: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= reads; i++) {
      const calls = container.kmsKeyring.calls;
      const out = await container.getSecret(VAULT, name);
      if (out.value !== value) throw new Error('read the wrong value');
      if (container.kmsKeyring.calls !== calls) callAt.push(i);
      tick();
    }
    return {
      kmsCalls: container.kmsKeyring.calls - before,
      callAt,
      seconds: (performance.now() - t0) / 1000,
    };
  };
  const scenario = (
    label: string,
    reads: number,
    expected: number,
    r: Awaited<ReturnType<typeof readMany>>,
  ) => ({ label, reads, expected, ...r, per1000: (r.kmsCalls * 1000) / reads }) satisfies Scenario;

  const writer = newContainer();
  await writer.setSecret(VAULT, name, { value });
  const writeCalls = writer.kmsKeyring.calls;

  const scenarios: Scenario[] = [];
  scenarios.push(
    scenario('1,000 hot reads, same container as the write', 1000, 0, await readMany(writer, 1000)),
  );
  scenarios.push(
    scenario('1,000 reads, fresh container (cold cache)', 1000, 1, await readMany(newContainer(), 1000)),
  );
  const many = newContainer();
  scenarios.push(
    scenario('10,000 reads, fresh container (maxUses)', 10_000, 1, await readMany(many, 10_000)),
  );
  const next = await readMany(many, 1);
  scenarios.push(
    scenario('10,001st read, same container as above', 1, 1, {
      ...next,
      callAt: next.callAt.map((i) => i + 10_000),
    }),
  );

  // maxAgeMs at work: the same 1,000 reads spread over one simulated hour (one read every 3.6 s).
  let simulated = Date.now();
  const slow = await readMany(
    newContainer(() => simulated),
    1000,
    () => {
      simulated += 3600;
    },
  );
  scenarios.push({
    ...scenario('1,000 reads over 1 simulated hour, fresh (maxAgeMs)', 1000, 12, slow),
    informational: true,
  });

  const worst = Math.max(
    ...scenarios.filter((s) => s.reads >= 1000 && !s.informational).map((s) => s.per1000),
  );
  const met = worst <= TARGET_PER_1000;

  console.log('KMS calls per reads of one hot secret version, counted at the KmsKeyring');
  console.log(
    `  data-key cache limits (lib/config.ts defaults): maxAgeMs ${limits.maxAgeMs}, ` +
      `maxUses ${limits.maxUses}, maxEntries ${limits.maxEntries}; ` +
      `equal to defaultCacheLimits: ${configMatchesDefaults ? 'yes' : 'NO'}`,
  );
  console.log(`  the write (set-secret) made ${writeCalls} KMS call(s)`);
  console.log('');
  console.log(
    table([
      ['reads', 'KMS calls', 'per 1,000 reads', 'expected', 'calls at read #', 'seconds'],
      ...scenarios.map((s) => [
        s.informational ? `${s.label} *` : s.label,
        s.kmsCalls,
        s.reads >= 1000 ? s.per1000.toFixed(2) : '-',
        s.expected,
        (s.callAt.length > 6 ? [...s.callAt.slice(0, 5), '…'] : s.callAt).join(', ') || '-',
        s.seconds.toFixed(1),
      ]),
    ]),
  );
  console.log('');
  console.log(
    `  at the fake KMS: GenerateDataKey ${kms.counts.GenerateDataKey}, Decrypt ${kms.counts.Decrypt}`,
  );
  console.log(
    `Worst calls per 1,000 reads: ${worst.toFixed(2)}; target ≤ ${TARGET_PER_1000}: ${verdict(met)}`,
  );

  printBenchJson('kms-calls', {
    cacheLimits: limits,
    configMatchesDefaults,
    writeCalls,
    scenarios: scenarios.map(({ label, reads, kmsCalls, per1000, expected, callAt, informational }) => ({
      label,
      reads,
      kmsCalls,
      per1000,
      expected,
      callAt,
      informational: informational ?? false,
    })),
    fakeKms: kms.counts,
    worstPer1000: worst,
    target: TARGET_PER_1000,
    met,
  });
} finally {
  client.destroy();
  await dynamo.stop();
}
