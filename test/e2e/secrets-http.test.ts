import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/** What the SDK never sends: no token, bad tokens, bad JSON, other hosts. Raw HTTPS, TLS verified. */
describe('the secrets API at the HTTP level', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let auth: Record<string, string>;
  const v = 'api-version=2026-04-01';

  before(async () => {
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    auth = { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' };
  });
  after(() => fixture.close());

  it('answers a request without a token with the challenge the SDKs parse, before reading the body', async () => {
    const res = await rawRequest(`${base}/secrets/x?api%2Dversion=2026-04-01`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 401);
    assert.equal(
      res.headers['www-authenticate'],
      `Bearer authorization="${fixture.info.authorityHost}/${fixture.info.tenantId}", resource="https://vault.azure.net"`,
    );
    assert.equal(res.json().error.code, 'Unauthorized');
  });

  it('refuses malformed, foreign, HMAC-signed, wrong-audience and expired tokens with 401', async () => {
    const { info, vault } = fixture;
    const { privateKey } = await generateKeyPair('RS256');
    const claims = { tid: info.tenantId, oid: 'x' };
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'foreign' })
      .setIssuer(vault.issuer.issuer)
      .setAudience('https://vault.azure.net')
      .setExpirationTime('5m')
      .sign(privateKey);
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(vault.issuer.issuer)
      .setAudience('https://vault.azure.net')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough!!'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iss: vault.issuer.issuer, aud: 'https://vault.azure.net', exp: 9999999999 })).toString('base64url')}.`;
    const wrongAudience = await vault.issuer.mintToken({
      clientId: info.clientId,
      audience: 'https://other.example',
    });
    const expired = await vault.issuer.mintToken({
      clientId: info.clientId,
      extraClaims: { exp: 1_000_000_000 },
    });
    const otherTenant = await vault.issuer.mintToken({
      clientId: info.clientId,
      extraClaims: { tid: 'another-tenant' },
    });
    for (const token of ['garbage', foreign, hmac, unsigned, wrongAudience, expired, otherTenant]) {
      const res = await rawRequest(`${base}/secrets?${v}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401, token.slice(0, 20));
      assert.ok(res.headers['www-authenticate']);
      assert.ok(!res.text.includes(token), 'the token is never echoed');
    }
  });

  it('refuses malformed JSON and wrongly typed fields with 400 naming the field', async () => {
    const bad = await rawRequest(`${base}/secrets/json?${v}`, {
      method: 'PUT',
      headers: auth,
      body: '{"value": ',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json().error.code, 'BadParameter');
    assert.match(bad.json().error.message, /not valid JSON/);

    const typed = await rawRequest(`${base}/secrets/json?${v}`, {
      method: 'PUT',
      headers: auth,
      body: '{"value": 5}',
    });
    assert.equal(typed.status, 400);
    assert.match(typed.json().error.message, /'value'/);

    const attrs = await rawRequest(`${base}/secrets/json?${v}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ value: 'never-stored', attributes: { nbf: 2000, exp: 1000 } }),
    });
    assert.equal(attrs.status, 400);
    assert.match(attrs.json().error.message, /attributes/);
    assert.ok(!attrs.text.includes('never-stored'), 'the value is never echoed');

    const missing = await rawRequest(`${base}/secrets/json?${v}`, { headers: auth });
    assert.equal(missing.status, 404, 'nothing was stored by the refused writes');
  });

  it('refuses a missing or unknown api-version with 400', async () => {
    const none = await rawRequest(`${base}/secrets`, { headers: auth });
    assert.equal(none.status, 400);
    assert.match(none.json().error.message, /api-version/);
    const unknown = await rawRequest(`${base}/secrets?api-version=1999-01-01`, { headers: auth });
    assert.equal(unknown.status, 400);
  });

  it('serves api-version 2025-07-01 and treats an empty version segment as the latest', async () => {
    const set = await rawRequest(`${base}/secrets/trailing?api-version=2025-07-01`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ value: 'latest' }),
    });
    assert.equal(set.status, 200);
    const got = await rawRequest(`${base}/secrets/trailing/?api-version=2025-07-01`, { headers: auth });
    assert.equal(got.status, 200);
    assert.equal(got.json().value, 'latest');
  });

  it('validates maxresults and $skiptoken', async () => {
    for (const q of ['maxresults=0', 'maxresults=26', 'maxresults=abc', '$skiptoken=garbage']) {
      const res = await rawRequest(`${base}/secrets?${v}&${q}`, { headers: auth });
      assert.equal(res.status, 400, q);
      assert.equal(res.json().error.code, 'BadParameter');
    }
  });

  it('puts the same api-version into nextLink so the SDK can follow it verbatim', async () => {
    for (const n of ['page-1', 'page-2', 'page-3']) {
      await rawRequest(`${base}/secrets/${n}?${v}`, { method: 'PUT', headers: auth, body: '{"value":"v"}' });
    }
    const first = await rawRequest(`${base}/secrets?api-version=7.6&maxresults=1`, { headers: auth });
    const link = new URL(first.json().nextLink);
    assert.equal(link.origin, base);
    assert.equal(link.searchParams.get('api-version'), '7.6');
    assert.ok(link.searchParams.get('$skiptoken'));
    const second = await rawRequest(link.href, { headers: auth });
    assert.equal(second.status, 200);
    assert.notEqual(second.json().value[0].id, first.json().value[0].id);
  });

  it('answers each vault on its own host name, from the Host header', async () => {
    const port = fixture.vault.port;
    const created = await rawRequest(`${base}/vaults/team-a?api-version=2024-11-01`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ properties: { sku: { name: 'standard' } } }),
    });
    assert.equal(created.status, 201, created.text);
    const other = { ...auth, host: `team-a.localhost:${port}` };
    const set = await rawRequest(`${base}/secrets/scoped?${v}`, {
      method: 'PUT',
      headers: other,
      body: JSON.stringify({ value: 'only-in-team-a' }),
    });
    assert.equal(set.status, 200);
    assert.equal(set.json().id.startsWith(`https://team-a.localhost:${port}/secrets/scoped/`), true);
    const fromOther = await rawRequest(`${base}/secrets/scoped?${v}`, { headers: other });
    assert.equal(fromOther.json().value, 'only-in-team-a');
    const fromDev = await rawRequest(`${base}/secrets/scoped?${v}`, { headers: auth });
    assert.equal(fromDev.status, 404, "the default vault does not see another vault's secret");
  });

  it('answers unknown paths with 404 and wrong methods with 405, as KeyVaultError bodies', async () => {
    const unknown = await rawRequest(`${base}/nothing-here?${v}`, { headers: auth });
    assert.equal(unknown.status, 404);
    assert.ok(unknown.json().error.code);
    const method = await rawRequest(`${base}/secrets?${v}`, { method: 'DELETE', headers: auth });
    assert.equal(method.status, 405);
  });

  it('echoes the client request id and never answers with a stack trace', async () => {
    const res = await rawRequest(`${base}/secrets/none?${v}`, {
      headers: { ...auth, 'x-ms-client-request-id': 'corr-123' },
    });
    assert.equal(res.headers['x-ms-client-request-id'], 'corr-123');
    assert.ok(res.headers['x-ms-request-id']);
    assert.ok(!/at .+\.ts:\d+/.test(res.text));
  });
});
