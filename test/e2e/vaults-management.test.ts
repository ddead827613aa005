import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

const MGMT = 'api-version=2024-11-01';
const DATA = 'api-version=2026-04-01';

/** The management plane on the bare domain, and what it does to the data plane. */
describe('vaults: the management API', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let admin: Record<string, string>;
  let port: number;

  const asJson = (token: string) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  });
  const mgmt = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    rawRequest(`${base}${path}${path.includes('?') ? '&' : '?'}${MGMT}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const data = (
    vault: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) =>
    rawRequest(`${base}${path}?${DATA}`, {
      method,
      headers: { ...headers, host: `${vault}.localhost:${port}` },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const client = async (name: string) => {
    const c = await fixture.vault.issuer.createClient(name);
    return { ...c, headers: asJson(await fixture.vault.issuer.mintToken({ clientId: c.clientId })) };
  };

  before(async () => {
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    port = fixture.vault.port;
    admin = asJson(await fixture.token());
  });
  after(() => fixture.close());

  it('creates a vault in the shape of Microsoft.KeyVault/vaults, its creator its administrator', async () => {
    const res = await mgmt('PUT', '/vaults/payments', admin, {
      properties: { sku: { family: 'A', name: 'premium' }, softDeleteRetentionInDays: 30 },
      tags: { team: 'payments' },
    });
    assert.equal(res.status, 201, res.text);
    const vault = res.json();
    assert.equal(vault.name, 'payments');
    assert.equal(vault.type, 'Microsoft.KeyVault/vaults');
    assert.equal(vault.properties.tenantId, fixture.info.tenantId);
    assert.deepEqual(vault.properties.sku, { family: 'A', name: 'premium' });
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.equal(vault.properties.softDeleteRetentionInDays, 30);
    assert.equal(vault.properties.enablePurgeProtection, false);
    assert.equal(vault.properties.vaultUri, `https://payments.localhost:${port}/`);

    const set = await data('payments', 'PUT', '/secrets/first', admin, { value: 'v' });
    assert.equal(set.status, 200, 'the creator may use the vault at once');
    assert.equal(set.json().attributes.recoverableDays, 30);
    const assignments = await data(
      'payments',
      'GET',
      '/providers/Microsoft.Authorization/roleAssignments',
      admin,
    );
    assert.equal(assignments.status, 200, assignments.text);
    assert.ok(
      assignments
        .json()
        .value.some((a: { properties: { roleDefinitionId: string } }) =>
          a.properties.roleDefinitionId.endsWith('00482a5a-887f-4fb3-b363-3b7fe8e74483'),
        ),
      'a Key Vault Administrator assignment for the creator',
    );
  });

  it('gets, lists and updates vaults', async () => {
    await mgmt('PUT', '/vaults/listed-vault', admin, {});
    assert.equal((await mgmt('GET', '/vaults/listed-vault', admin)).json().properties.sku.name, 'standard');
    const names = (await mgmt('GET', '/vaults', admin)).json().value.map((v: { name: string }) => v.name);
    assert.ok(names.includes('listed-vault') && names.includes('dev'));
    const patched = await mgmt('PATCH', '/vaults/listed-vault', admin, {
      tags: { env: 'test' },
      properties: { sku: { name: 'premium' } },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json().tags, { env: 'test' });
    assert.equal(patched.json().properties.sku.name, 'premium');
    assert.equal((await mgmt('GET', '/vaults/no-such-vault', admin)).status, 404);
  });

  it('refuses bad names, retention and bodies with 400, writing nothing', async () => {
    for (const name of ['ab', '1starts-with-digit', 'ends-with-', 'under_score', 'x'.repeat(25)]) {
      assert.equal((await mgmt('PUT', `/vaults/${name}`, admin, {})).status, 400, name);
    }
    assert.equal(
      (await mgmt('PUT', '/vaults/short-retention', admin, { properties: { softDeleteRetentionInDays: 5 } }))
        .status,
      400,
    );
    assert.equal(
      (await mgmt('PUT', '/vaults/bad-sku', admin, { properties: { sku: { name: 'gold' } } })).status,
      400,
    );
    const badPolicy = await mgmt('PUT', '/vaults/bad-policy', admin, {
      properties: { accessPolicies: [{ tenantId: 't', objectId: 'o', permissions: { secrets: ['steal'] } }] },
    });
    assert.equal(badPolicy.status, 400);
    assert.match(badPolicy.json().error.message, /accessPolicies/);
    for (const name of ['short-retention', 'bad-sku', 'bad-policy']) {
      assert.equal((await mgmt('GET', `/vaults/${name}`, admin)).status, 404, `${name} was not created`);
    }
  });

  it('soft-deletes a vault: its data plane is gone, its name taken, and recover brings everything back', async () => {
    await mgmt('PUT', '/vaults/deleted-vault', admin, {});
    await data('deleted-vault', 'PUT', '/secrets/kept', admin, { value: 'still-here' });
    const deleted = await mgmt('DELETE', '/vaults/deleted-vault', admin);
    assert.equal(deleted.status, 200);
    assert.ok(deleted.json().properties.scheduledPurgeDate);
    const gone = await data('deleted-vault', 'GET', '/secrets/kept', admin);
    assert.equal(gone.status, 404);
    assert.equal(gone.json().error.code, 'VaultNotFound');
    assert.equal(
      (await mgmt('PUT', '/vaults/deleted-vault', admin, {})).status,
      409,
      'the name is not reusable',
    );
    const listed = (await mgmt('GET', '/deletedVaults', admin))
      .json()
      .value.map((v: { name: string }) => v.name);
    assert.ok(listed.includes('deleted-vault'));
    assert.equal((await mgmt('POST', '/deletedVaults/deleted-vault/recover', admin)).status, 200);
    assert.equal((await data('deleted-vault', 'GET', '/secrets/kept', admin)).json().value, 'still-here');
  });

  it('purges a deleted vault with everything in it, freeing its name', async () => {
    await mgmt('PUT', '/vaults/purged-vault', admin, {});
    await data('purged-vault', 'PUT', '/secrets/doomed', admin, { value: 'x' });
    await mgmt('DELETE', '/vaults/purged-vault', admin);
    assert.equal((await mgmt('POST', '/deletedVaults/purged-vault/purge', admin)).status, 200);
    assert.equal((await mgmt('GET', '/deletedVaults/purged-vault', admin)).status, 404);
    assert.equal(
      (await mgmt('PUT', '/vaults/purged-vault', admin, {})).status,
      201,
      'the name is free again',
    );
    assert.equal(
      (await data('purged-vault', 'GET', '/secrets/doomed', admin)).status,
      404,
      'its secrets went with it',
    );
  });

  it('enforces purge protection: the flag cannot be cleared, and nothing in the vault can be purged', async () => {
    const created = await mgmt('PUT', '/vaults/protected', admin, {
      properties: { enablePurgeProtection: true },
    });
    assert.equal(created.json().properties.enablePurgeProtection, true);
    const cleared = await mgmt('PATCH', '/vaults/protected', admin, {
      properties: { enablePurgeProtection: false },
    });
    assert.equal(cleared.status, 400);
    assert.equal(
      (await mgmt('GET', '/vaults/protected', admin)).json().properties.enablePurgeProtection,
      true,
    );

    await data('protected', 'PUT', '/secrets/guarded', admin, { value: 'v' });
    const secret = (await data('protected', 'GET', '/secrets/guarded', admin)).json();
    assert.equal(secret.attributes.recoveryLevel, 'Recoverable', 'no "+Purgeable" under purge protection');
    await data('protected', 'DELETE', '/secrets/guarded', admin);
    const purge = await data('protected', 'DELETE', '/deletedsecrets/guarded', admin);
    assert.equal(purge.status, 403);
    assert.equal(
      (await data('protected', 'GET', '/deletedsecrets/guarded', admin)).status,
      200,
      'still recoverable',
    );

    await mgmt('DELETE', '/vaults/protected', admin);
    assert.equal((await mgmt('POST', '/deletedVaults/protected/purge', admin)).status, 403);
    assert.equal(
      (await mgmt('GET', '/deletedVaults/protected', admin)).json().properties.purgeProtectionEnabled,
      true,
    );
  });

  it('grants through access policies in an access-policy vault, added and removed', async () => {
    const app = await client('policy-app');
    await mgmt('PUT', '/vaults/policy-vault', admin, { properties: { enableRbacAuthorization: false } });
    assert.equal(
      (await data('policy-vault', 'PUT', '/secrets/p', admin, { value: 'v' })).status,
      200,
      'creator has a policy',
    );
    const denied = await data('policy-vault', 'GET', '/secrets/p', app.headers);
    assert.equal(denied.status, 403);
    assert.equal(denied.json().error.innererror.code, 'ForbiddenByPolicy');
    assert.match(denied.json().error.message, new RegExp(app.objectId));

    const policy = {
      tenantId: fixture.info.tenantId,
      objectId: app.objectId,
      permissions: { secrets: ['get'] },
    };
    const added = await mgmt('PUT', '/vaults/policy-vault/accessPolicies/add', admin, {
      properties: { accessPolicies: [policy] },
    });
    assert.equal(added.status, 200, added.text);
    assert.equal((await data('policy-vault', 'GET', '/secrets/p', app.headers)).json().value, 'v');
    assert.equal(
      (await data('policy-vault', 'PUT', '/secrets/p', app.headers, { value: 'w' })).status,
      403,
      'get only',
    );

    await mgmt('PUT', '/vaults/policy-vault/accessPolicies/remove', admin, {
      properties: { accessPolicies: [policy] },
    });
    assert.equal((await data('policy-vault', 'GET', '/secrets/p', app.headers)).status, 403);
    const bad = await mgmt('PUT', '/vaults/policy-vault/accessPolicies/steal', admin, {
      properties: { accessPolicies: [policy] },
    });
    assert.equal(bad.status, 400);
  });

  it('lets only deployment roles manage vaults', async () => {
    const nobody = await client('nobody');
    const refused = await mgmt('PUT', '/vaults/not-mine', nobody.headers, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error.innererror.code, 'AccessDenied');
    assert.equal((await mgmt('GET', '/vaults', nobody.headers)).status, 403);
    assert.equal((await mgmt('GET', '/vaults/not-mine', admin)).status, 404, 'nothing was created');
  });

  it('refuses a token of another tenant with 401 and a challenge naming the vault tenant', async () => {
    const other = await fixture.vault.issuer.mintToken({
      clientId: fixture.info.clientId,
      extraClaims: { tid: randomUUID() },
    });
    const res = await data('dev', 'GET', '/secrets', asJson(other));
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), new RegExp(`/${fixture.info.tenantId}"`));
  });
});
