import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

const AUDIT_READER = randomUUID();

/** The audit query API on the management plane. */
describe('querying audit records', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let admin: Record<string, string>;

  const headers = (token: string) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  });
  const query = (vault: string, q: string, h: Record<string, string>) =>
    rawRequest(`${base}/vaults/${vault}/auditEvents?api-version=2024-11-01${q}`, { headers: h });

  before(async () => {
    fixture = await localVaultFixture({ ARCA_AUDIT_READERS: AUDIT_READER });
    base = fixture.info.vaultUrl;
    admin = headers(await fixture.token());
    for (const n of ['q-a', 'q-b', 'q-c']) {
      await rawRequest(`${base}/secrets/${n}?api-version=2026-04-01`, {
        method: 'PUT',
        headers: admin,
        body: JSON.stringify({ value: 'v' }),
      });
    }
    await rawRequest(`${base}/secrets/missing?api-version=2026-04-01`, { headers: admin });
  });
  after(() => fixture.close());

  it("returns a vault's records, filtered by operation and result", async () => {
    const sets = await query('dev', '&operationName=SecretSet', admin);
    assert.equal(sets.status, 200, sets.text);
    const records = sets.json().value;
    assert.equal(records.length, 3);
    for (const r of records) {
      assert.equal(r.operationName, 'SecretSet');
      assert.equal(r.category, 'AuditEvent');
      assert.equal(r.resultType, 'Success');
      assert.equal(r.identity.claim.oid, records[0].identity.claim.oid);
      assert.match(r.properties.id, /\/secrets\/q-[abc]\/[0-9a-f]{32}$/, 'the object id with its version');
      assert.equal(r.properties.accessGrant.via, 'roleAssignment');
    }
    const failures = (await query('dev', '&resultType=Failure', admin)).json().value;
    assert.ok(
      failures.some(
        (r: { operationName: string; properties: { httpStatusCode: number } }) =>
          r.operationName === 'SecretGet' && r.properties.httpStatusCode === 404,
      ),
    );
  });

  it('pages with $top and a nextLink that keeps the filters', async () => {
    const first = (await query('dev', '&operationName=SecretSet&$top=2', admin)).json();
    assert.equal(first.value.length, 2);
    const next = new URL(first.nextLink);
    assert.equal(next.searchParams.get('operationName'), 'SecretSet');
    const second = (await rawRequest(next.href, { headers: admin })).json();
    assert.equal(second.value.length, 1);
    assert.equal(second.nextLink, null);
  });

  it('refuses bad ranges and filters with 400', async () => {
    for (const q of [
      '&from=yesterday',
      '&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
      '&$top=0',
      '&resultType=Maybe',
    ]) {
      assert.equal((await query('dev', q, admin)).status, 400, q);
    }
  });

  it('lets deployment administrators, audit readers and the vault administrators read, and nobody else', async () => {
    const reader = await fixture.vault.issuer.createClient('audit-reader');
    const readerToken = await fixture.vault.issuer.mintToken({
      clientId: reader.clientId,
      extraClaims: { oid: AUDIT_READER },
    });
    assert.equal((await query('dev', '', headers(readerToken))).status, 200, 'the audit reader role');
    const nobody = await fixture.vault.issuer.createClient('nobody');
    const nobodyToken = await fixture.vault.issuer.mintToken({ clientId: nobody.clientId });
    const refused = await query('dev', '', headers(nobodyToken));
    assert.equal(refused.status, 403);
    const grant = await rawRequest(
      `${base}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=7.6`,
      {
        method: 'PUT',
        headers: admin,
        body: JSON.stringify({
          properties: { roleDefinitionId: 'Key Vault Administrator', principalId: nobody.objectId },
        }),
      },
    );
    assert.equal(grant.status, 201);
    assert.equal((await query('dev', '', headers(nobodyToken))).status, 200, "the vault's administrator");
  });
});
