import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RestError } from '@azure/core-rest-pipeline';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';

/** Access control as an unmodified SecretClient sees it. */
describe('access control through the Azure SDK', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let admin: SecretClient;

  const clientFor = async (name: string) => {
    const c = await fixture.vault.issuer.createClient(name);
    const credential = new ClientSecretCredential(fixture.info.tenantId, c.clientId, c.clientSecret, {
      authorityHost: fixture.info.authorityHost,
      disableInstanceDiscovery: true,
    });
    return {
      ...c,
      secrets: new SecretClient(fixture.info.vaultUrl, credential, {
        disableChallengeResourceVerification: true,
      }),
    };
  };
  const grant = async (principalId: string, role: string, scope = '') => {
    const res = await rawRequest(
      `${fixture.info.vaultUrl}${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=7.6`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ properties: { roleDefinitionId: role, principalId } }),
      },
    );
    assert.equal(res.status, 201, res.text);
  };
  const forbidden = (error: RestError) => {
    assert.equal(error.statusCode, 403);
    assert.equal(error.code, 'Forbidden');
    return true;
  };

  before(async () => {
    fixture = await localVaultFixture();
    admin = fixture.secretClient();
    await admin.setSecret('shared-secret', 'for-granted-callers');
    await admin.setSecret('only-this', 'scoped-value');
  });
  after(() => fixture.close());

  it('refuses a client without rights with 403, and serves it once granted Secrets User', async () => {
    const app = await clientFor('reader-app');
    await assert.rejects(app.secrets.getSecret('shared-secret'), forbidden);
    await grant(app.objectId, SECRETS_USER);
    assert.equal((await app.secrets.getSecret('shared-secret')).value, 'for-granted-callers');
    await assert.rejects(app.secrets.setSecret('shared-secret', 'overwrite'), forbidden);
    assert.equal(
      (await admin.getSecret('shared-secret')).value,
      'for-granted-callers',
      'the refused write changed nothing',
    );
  });

  it('limits an object-scoped role to its object, in reads and in lists', async () => {
    const app = await clientFor('scoped-app');
    await grant(app.objectId, 'Key Vault Secrets User', '/secrets/only-this');
    assert.equal((await app.secrets.getSecret('only-this')).value, 'scoped-value');
    await assert.rejects(app.secrets.getSecret('shared-secret'), forbidden);
    const names: string[] = [];
    for await (const p of app.secrets.listPropertiesOfSecrets()) names.push(p.name);
    assert.deepEqual(names, ['only-this']);
  });

  it('refuses to hand a token to a vault of another tenant', async () => {
    const other = randomUUID();
    const created = await rawRequest(`${fixture.info.vaultUrl}/vaults/foreign?api-version=2024-11-01`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { tenantId: other } }),
    });
    assert.equal(created.status, 201, created.text);
    const probe = await rawRequest(`${fixture.info.vaultUrl}/secrets?api-version=2026-04-01`, {
      headers: { host: `foreign.localhost:${fixture.vault.port}` },
    });
    assert.equal(probe.status, 401);
    assert.match(
      String(probe.headers['www-authenticate']),
      new RegExp(`/${other}"`),
      'the challenge names its tenant',
    );
    const ours = await rawRequest(`${fixture.info.vaultUrl}/secrets?api-version=2026-04-01`, {
      headers: {
        host: `foreign.localhost:${fixture.vault.port}`,
        authorization: `Bearer ${await fixture.token()}`,
      },
    });
    assert.equal(
      ours.status,
      401,
      "a token of this deployment's tenant is refused by the other tenant's vault",
    );
  });
});
