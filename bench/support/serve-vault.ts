/**
 * A local vault gateway in a process of its own, for benchmarks that compare
 * two configurations of the same build: `lib/config.ts` is read once per
 * process, so each configuration needs its own process.
 *
 *   node --import tsx bench/support/serve-vault.ts '{"dataDir":…,"dynamoDbEndpoint":…,"tableName":…,"env":{…}}'
 *
 * Starts `startLocalVault` on the given DynamoDB endpoint, table and data
 * folder (`env` is passed through: ARCA_* settings such as ARCA_AUDIT=off),
 * mints a token from this process's own issuer (its `iss` names this
 * process's port, so only this process accepts it) and prints one line,
 * `SERVE_VAULT {...}`, with the URL, the token, the CA path and the audit
 * setting the handlers' config actually read. It serves until its stdin
 * closes (the parent ended, however it ended) or SIGTERM.
 *
 * Import only its types from elsewhere: importing the module runs it.
 */
import { startLocalVault } from '#lib/local/local-vault.ts';
import { SERVE_VAULT_PREFIX } from './common.ts';

export interface ServeVaultOptions {
  readonly dataDir: string;
  readonly dynamoDbEndpoint: string;
  readonly tableName: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ServedVault {
  readonly url: string;
  readonly token: string;
  readonly caCertPath: string;
  readonly audit: 'on' | 'off';
  readonly pid: number;
}

const options = JSON.parse(process.argv[2] ?? '') as ServeVaultOptions;
const vault = await startLocalVault({
  dataDir: options.dataDir,
  port: 0,
  dynamoDbEndpoint: options.dynamoDbEndpoint,
  tableName: options.tableName,
  ...(options.env && { env: options.env }),
});
// The config the handlers will use, read now that startLocalVault has set process.env.
const { config } = await import('#lib/config.ts');
const served: ServedVault = {
  url: vault.info.vaultUrl,
  token: await vault.issuer.mintToken({ clientId: vault.info.clientId }),
  caCertPath: vault.info.caCertPath,
  audit: config().ARCA_AUDIT,
  pid: process.pid,
};
console.log(`${SERVE_VAULT_PREFIX}${JSON.stringify(served)}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await vault.close();
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
