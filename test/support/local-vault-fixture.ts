import { randomBytes } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyClientOptions,
  type KeyVaultKey,
} from '@azure/keyvault-keys';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { type LocalVault, startLocalVault } from '#lib/local/local-vault.ts';
import { dataDirWithTestCa, testEnvironment } from './environment.ts';

/** A local vault on the run's DynamoDB Local (a table of its own) and CA, with the dev client's credential. */
export async function localVaultFixture(env: Record<string, string> = {}) {
  const data = dataDirWithTestCa();
  const tableName = `e2e-${randomBytes(6).toString('hex')}`;
  const vault: LocalVault = await startLocalVault({
    dataDir: data.dir,
    port: 0,
    dynamoDbEndpoint: testEnvironment().endpoint,
    tableName,
    env,
  });
  const { info } = vault;
  const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
  /** An unmodified SecretClient; only the resource check is off, as bare localhost has no parent domain. */
  const secretClient = (options: SecretClientOptions = {}) =>
    new SecretClient(info.vaultUrl, credential, { disableChallengeResourceVerification: true, ...options });
  /** An unmodified KeyClient, likewise. */
  const keyClient = (options: KeyClientOptions = {}) =>
    new KeyClient(info.vaultUrl, credential, { disableChallengeResourceVerification: true, ...options });
  /** An unmodified CryptographyClient for a key (or a key id), likewise. */
  const cryptoClient = (key: KeyVaultKey | string, options: CryptographyClientOptions = {}) =>
    new CryptographyClient(key, credential, { disableChallengeResourceVerification: true, ...options });
  const token = async () => (await credential.getToken('https://vault.azure.net/.default')).token;
  return {
    vault,
    info,
    /** The tables this vault uses on the run's DynamoDB Local. */
    tableName,
    auditTableName: env.ARCA_AUDIT_TABLE_NAME ?? `${tableName}-audit`,
    dataDir: data.dir,
    credential,
    secretClient,
    keyClient,
    cryptoClient,
    token,
    close: async () => {
      await vault.close();
      data.remove();
    },
  };
}
