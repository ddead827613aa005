import { resolve } from 'node:path';
import { javaProblem } from './dynamodb-local.ts';
import { startLocalVault } from './local-vault.ts';

/** `npm start`: the vault on this machine. Settings: ARCA_PORT (8443), ARCA_DATA_DIR (.data). */
const problem = javaProblem();
if (problem) {
  console.error(problem);
  process.exit(1);
}

const port = Number(process.env.ARCA_PORT ?? 8443);
const dataDir = process.env.ARCA_DATA_DIR ?? '.data';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ARCA_PORT must be a port number (0-65535); got ${process.env.ARCA_PORT}`);
  process.exit(1);
}

try {
  const vault = await startLocalVault({ dataDir, port });
  const { info } = vault;
  console.log(`Arca is serving the vault "dev" at ${info.vaultUrl} (any vault answers at https://{vault}.localhost:${vault.port}).

  ${vault.hsmSummary}

  Credentials and the local CA are in ${resolve(dataDir, 'local.json')} (mode 0600):
    authorityHost ${info.authorityHost}
    tenantId      ${info.tenantId}
    clientId      ${info.clientId}
    clientSecret  (in local.json)
    CA            ${info.caCertPath}

  Node clients trust the local CA with:  export NODE_EXTRA_CA_CERTS=${info.caCertPath}
  Get a token with curl:
    curl --cacert ${info.caCertPath} -d grant_type=client_credentials -d client_id=${info.clientId} \\
      -d client_secret=$(node -p "require('${resolve(dataDir, 'local.json')}').clientSecret") \\
      -d scope=https://vault.azure.net/.default ${info.authorityHost}/${info.tenantId}/oauth2/v2.0/token

  A second identity, with no rights until granted:  npm run client -- create my-app
  (then grant it a role: see the README, "Vaults and access").

Press Ctrl+C to stop.`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Arca and DynamoDB Local…`);
    await vault.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  console.error(`Arca could not start: ${(error as Error).message}`);
  process.exit(1);
}
