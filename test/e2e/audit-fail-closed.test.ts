import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, ScanCommand, waitUntilTableNotExists } from '@aws-sdk/client-dynamodb';
import { createAuditTableIfMissing } from '#lib/store/create-table.ts';
import { dynamoClient } from '../support/environment.ts';
import { type RawResponse, rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/**
 * DESIGN.md #8, fault injection: a request whose audit record cannot be made
 * durable fails with 503, changes nothing and discloses nothing. The audit
 * table is deleted under a running vault; every change must then answer 503
 * and leave the main table exactly as it was, and every read must answer 503
 * without the value. Afterwards the audit table is recreated and the API shows
 * the state from before the outage.
 */

const DATA = 'api-version=7.6';
const MGMT = 'api-version=2024-11-01';
const AUTHZ = '/providers/Microsoft.Authorization';
const READER_ROLE = '21090545-7ca7-4776-b22c-e363652d74d2';

describe('audit fails closed: with the audit table gone, nothing changes and nothing is disclosed', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let token: string;
  let nobodyToken: string;
  let before503: string;
  /** Every secret value this test ever set: none may appear in a 503. */
  const values = new Map<string, string>();
  const versions = new Map<string, string>();
  let restoreBlob: string;
  const run = randomBytes(3).toString('hex');
  const newVault = `failclosed-${run}`;
  const newAssignment = randomUUID();
  const oldAssignment = randomUUID();
  const deletedVault = `gone-${run}`;

  const request = (method: string, path: string, body?: unknown, as: string | null = token) =>
    rawRequest(
      `${base}${path}${path.includes('?') ? '&' : '?'}${/^\/(vaults|deletedVaults)\b/.test(path) ? MGMT : DATA}`,
      {
        method,
        headers: {
          'content-type': 'application/json',
          'x-ms-client-request-id': randomUUID(),
          ...(as !== null && { authorization: `Bearer ${as}` }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      },
    );
  const setSecret = async (name: string) => {
    const value = `fail-closed-value-${name}-${randomBytes(12).toString('hex')}`;
    const res = await request('PUT', `/secrets/${name}`, { value, contentType: 'text/original' });
    assert.equal(res.status, 200, res.text);
    values.set(name, value);
    versions.set(name, String(res.json().id).split('/').pop() as string);
  };

  /** A 503 that says nothing: ServiceUnavailable, and no value, blob or token in body or headers. */
  const assertUnavailable = (res: RawResponse, what: string) => {
    assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.text.slice(0, 300)}`);
    const body = res.json();
    assert.equal(body.error?.code, 'ServiceUnavailable', `${what}: ${res.text}`);
    assert.deepEqual(Object.keys(body), ['error'], `${what}: a 503 carries the error only`);
    const everything = `${res.text}\n${JSON.stringify(res.headers)}`;
    for (const [name, value] of values)
      assert.ok(!everything.includes(value), `${what} discloses ${name}'s value`);
    assert.ok(!everything.includes(restoreBlob), `${what} discloses a backup blob`);
    assert.ok(!everything.includes(token), `${what} echoes the token`);
    assert.ok(res.headers['x-ms-correlation-request-id'], `${what}: still correlated`);
  };

  before(async () => {
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    token = await fixture.token();
    const nobody = await fixture.vault.issuer.createClient('fail-closed-nobody');
    nobodyToken = await fixture.vault.issuer.mintToken({ clientId: nobody.clientId });

    for (const name of ['kept', 'patched', 'doomed', 'purgeable', 'recoverable']) await setSecret(name);
    for (const name of ['purgeable', 'recoverable'])
      assert.equal((await request('DELETE', `/secrets/${name}`)).status, 200);
    // 'phoenix' is backed up, then deleted for good: only a restore could bring it back.
    await setSecret('phoenix');
    const backup = await request('POST', '/secrets/phoenix/backup');
    assert.equal(backup.status, 200, backup.text);
    restoreBlob = backup.json().value;
    assert.equal((await request('DELETE', '/secrets/phoenix')).status, 200);
    assert.equal((await request('DELETE', '/deletedsecrets/phoenix')).status, 204);

    // A deleted vault (to recover or purge) and a role assignment (to delete).
    assert.equal((await request('PUT', `/vaults/${deletedVault}`, {})).status, 201);
    assert.equal((await request('DELETE', `/vaults/${deletedVault}`)).status, 200);
    const assigned = await request('PUT', `${AUTHZ}/roleAssignments/${oldAssignment}`, {
      properties: { roleDefinitionId: READER_ROLE, principalId: randomUUID() },
    });
    assert.equal(assigned.status, 201, assigned.text);

    before503 = await snapshot(fixture.tableName);

    const client = dynamoClient();
    try {
      await client.send(new DeleteTableCommand({ TableName: fixture.auditTableName }));
      await waitUntilTableNotExists({ client, maxWaitTime: 30 }, { TableName: fixture.auditTableName });
    } finally {
      client.destroy();
    }
  });
  after(() => fixture?.close());

  it('a set of a new secret answers 503', async () => {
    values.set('brand-new', `fail-closed-new-${randomBytes(12).toString('hex')}`);
    assertUnavailable(
      await request('PUT', '/secrets/brand-new', { value: values.get('brand-new') }),
      'set (new secret)',
    );
  });

  it('a set of a new version of an existing secret answers 503', async () => {
    values.set('kept-next', `fail-closed-next-${randomBytes(12).toString('hex')}`);
    assertUnavailable(
      await request('PUT', '/secrets/kept', { value: values.get('kept-next') }),
      'set (new version)',
    );
  });

  it('an update answers 503', async () => {
    assertUnavailable(
      await request('PATCH', `/secrets/patched/${versions.get('patched')}`, {
        contentType: 'text/changed',
        tags: { changed: 'yes' },
        attributes: { enabled: false },
      }),
      'update',
    );
  });

  it('a delete, a purge and a recover answer 503', async () => {
    assertUnavailable(await request('DELETE', '/secrets/doomed'), 'delete');
    assertUnavailable(await request('DELETE', '/deletedsecrets/purgeable'), 'purge');
    assertUnavailable(await request('POST', '/deletedsecrets/recoverable/recover'), 'recover');
  });

  it('a restore answers 503', async () => {
    assertUnavailable(await request('POST', '/secrets/restore', { value: restoreBlob }), 'restore');
  });

  it('a role assignment create and delete answer 503', async () => {
    assertUnavailable(
      await request('PUT', `${AUTHZ}/roleAssignments/${newAssignment}`, {
        properties: { roleDefinitionId: READER_ROLE, principalId: randomUUID() },
      }),
      'role assignment create',
    );
    assertUnavailable(
      await request('DELETE', `${AUTHZ}/roleAssignments/${oldAssignment}`),
      'role assignment delete',
    );
  });

  it('a vault create, update, access policy change, delete, recover and purge answer 503', async () => {
    assertUnavailable(await request('PUT', `/vaults/${newVault}`, {}), 'vault create');
    assertUnavailable(await request('PATCH', '/vaults/dev', { tags: { changed: 'yes' } }), 'vault update');
    assertUnavailable(
      await request('PUT', '/vaults/dev/accessPolicies/add', {
        properties: {
          accessPolicies: [
            { tenantId: fixture.info.tenantId, objectId: randomUUID(), permissions: { secrets: ['get'] } },
          ],
        },
      }),
      'access policy add',
    );
    assertUnavailable(await request('DELETE', '/vaults/dev'), 'vault delete');
    assertUnavailable(await request('POST', `/deletedVaults/${deletedVault}/recover`), 'vault recover');
    assertUnavailable(await request('POST', `/deletedVaults/${deletedVault}/purge`), 'vault purge');
  });

  it('a get answers 503 and its body holds no secret value; so do every other read', async () => {
    assertUnavailable(await request('GET', '/secrets/kept'), 'get');
    assertUnavailable(await request('GET', `/secrets/kept/${versions.get('kept')}`), 'get (version)');
    assertUnavailable(await request('POST', '/secrets/kept/backup'), 'backup');
    assertUnavailable(await request('GET', '/secrets'), 'list');
    assertUnavailable(await request('GET', '/secrets/kept/versions'), 'list versions');
    assertUnavailable(await request('GET', '/deletedsecrets'), 'list deleted');
    assertUnavailable(await request('GET', '/deletedsecrets/recoverable'), 'get deleted');
    assertUnavailable(await request('GET', `${AUTHZ}/roleAssignments`), 'list role assignments');
    assertUnavailable(await request('GET', '/vaults/dev'), 'vault get');
    assertUnavailable(await request('GET', '/vaults'), 'vault list');
  });

  it('refusals that cannot be recorded answer 503 too (401, 403, 404)', async () => {
    assertUnavailable(await request('GET', '/secrets/kept', undefined, null), 'no token');
    assertUnavailable(await request('GET', '/secrets/kept', undefined, 'garbage'), 'garbage token');
    assertUnavailable(await request('GET', '/secrets/kept', undefined, nobodyToken), 'no rights');
    assertUnavailable(await request('GET', '/secrets/never-was'), 'unknown secret');
  });

  it('changed nothing: the main table is item for item what it was before the outage', async () => {
    assert.equal(await snapshot(fixture.tableName), before503);
  });

  it('once the audit table is back, the API shows the state from before the outage', async () => {
    const client = dynamoClient();
    try {
      await createAuditTableIfMissing(client, fixture.auditTableName);
    } finally {
      client.destroy();
    }
    const get = async (path: string) => {
      const res = await request('GET', path);
      assert.notEqual(res.status, 503, `${path}: the audit table is back: ${res.text}`);
      return res;
    };
    assert.equal((await get('/secrets/brand-new')).status, 404, 'the new secret was not made');
    const kept = await get('/secrets/kept');
    assert.equal(kept.json().value, values.get('kept'), 'no new version of kept');
    assert.equal(String(kept.json().id).split('/').pop(), versions.get('kept'));
    const keptVersions = (await get('/secrets/kept/versions')).json().value;
    assert.equal(keptVersions.length, 1, 'kept has one version');
    const patched = (await get('/secrets/patched')).json();
    assert.equal(patched.contentType, 'text/original');
    assert.equal(patched.tags, undefined);
    assert.equal(patched.attributes.enabled, true);
    assert.equal((await get('/secrets/doomed')).json().value, values.get('doomed'), 'doomed is still live');
    assert.equal(
      (await get('/deletedsecrets/purgeable')).status,
      200,
      'purgeable is still deleted, not purged',
    );
    assert.equal((await get('/deletedsecrets/recoverable')).status, 200, 'recoverable is still deleted');
    assert.equal((await get('/secrets/recoverable')).status, 404);
    assert.equal((await get('/secrets/phoenix')).status, 404, 'the restore did not happen');
    const assignments = await snapshotAssignments();
    assert.ok(!assignments.includes(newAssignment), 'the role assignment was not made');
    assert.ok(assignments.includes(oldAssignment), 'the role assignment was not deleted');
    assert.equal(
      (await get(`/deletedVaults/${deletedVault}`)).status,
      200,
      'the deleted vault is still deleted',
    );
    assert.equal((await get(`/vaults/${deletedVault}`)).status, 404, 'the deleted vault was not recovered');
    assert.equal((await get(`/vaults/${newVault}`)).status, 404, 'the vault was not made');
    const dev = (await get('/vaults/dev')).json();
    assert.equal(dev.tags?.changed, undefined, 'the vault was not updated');
    assert.equal(dev.properties.accessPolicies?.length ?? 0, 0, 'no access policy was added');
    assert.equal((await get('/deletedVaults/dev')).status, 404, 'the vault was not deleted');
  });

  /** The names of the dev vault's role assignments, read through the API. */
  async function snapshotAssignments(): Promise<string[]> {
    const res = await request('GET', `${AUTHZ}/roleAssignments`);
    if (res.status !== 200) return [];
    return res.json().value.map((a: { name: string }) => a.name);
  }
});

/** Every item of a table, sorted by key, as one string. */
async function snapshot(table: string): Promise<string> {
  const client = dynamoClient();
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, never> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    const key = (i: Record<string, unknown>) => JSON.stringify([i.pk, i.sk]);
    items.sort((a, b) => key(a).localeCompare(key(b)));
    return JSON.stringify(items, (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    );
  } finally {
    client.destroy();
  }
}
