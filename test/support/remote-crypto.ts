import { ClientSecretCredential } from '@azure/identity';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import { POLICY_PERMISSIONS } from '#lib/vaults/permissions.ts';
import { rawRequest } from './https.ts';
import type { localVaultFixture } from './local-vault-fixture.ts';

type Fixture = Awaited<ReturnType<typeof localVaultFixture>>;

const MGMT = 'api-version=2024-11-01';

/** The `oid` claim of a bearer token. */
export function objectIdOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).oid;
}

/**
 * A principal that may use keys (encrypt, decrypt, wrapKey, unwrapKey, sign,
 * verify) but not read them: the dev vault is switched to access policies,
 * the dev client keeping every permission. A CryptographyClient built from a
 * key id for this principal cannot fetch the key (403), so the unmodified SDK
 * sends every operation to the vault, including those it would otherwise do
 * locally with the public key (RSA1_5 and RSA-OAEP encrypt and wrapKey).
 */
export async function cryptoOnlyPrincipal(fixture: Fixture) {
  const { info } = fixture;
  const adminToken = await fixture.token();
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const mgmt = async (method: string, path: string, body: unknown) => {
    const res = await rawRequest(`${info.vaultUrl}${path}?${MGMT}`, {
      method,
      headers,
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  };
  const client = await fixture.vault.issuer.createClient('crypto-only');
  await mgmt('PUT', '/vaults/dev/accessPolicies/add', {
    properties: {
      accessPolicies: [
        {
          tenantId: info.tenantId,
          objectId: objectIdOf(adminToken),
          permissions: {
            keys: [...POLICY_PERMISSIONS.keys],
            secrets: ['get', 'list', 'set', 'delete', 'recover', 'purge'],
          },
        },
        {
          tenantId: info.tenantId,
          objectId: client.objectId,
          permissions: { keys: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify'] },
        },
      ],
    },
  });
  await mgmt('PATCH', '/vaults/dev', { properties: { enableRbacAuthorization: false } });
  const credential = new ClientSecretCredential(info.tenantId, client.clientId, client.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
  return {
    objectId: client.objectId,
    /** An unmodified CryptographyClient for a key id, as this principal. */
    cryptoClient: (keyId: string, options: CryptographyClientOptions = {}) =>
      new CryptographyClient(keyId, credential, { disableChallengeResourceVerification: true, ...options }),
  };
}
