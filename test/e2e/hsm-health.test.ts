import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeSharedPkcs11Sessions } from '#lib/keys/hsm/pkcs11-session.ts';
import { LOCAL_TOKEN_LABEL } from '#lib/local/local-hsm.ts';
import { rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

const MGMT = 'api-version=2024-11-01';

/**
 * GET /health/hsm on the bare domain, through the local gateway: local mode
 * has a SoftHSM2 token (lib/local/local-hsm.ts) and no CloudHSM cluster.
 */
describe('the HSM health route, locally (SoftHSM2)', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let url: string;

  const get = (headers: Record<string, string> = {}) => rawRequest(url, { headers });

  before(async () => {
    fixture = await localVaultFixture();
    url = `${fixture.info.vaultUrl}/health/hsm?${MGMT}`;
  });
  after(() => fixture.close());

  it('answers the deployment administrator 200, with the SoftHSM2 token reachable and no cluster', async () => {
    const res = await get({ authorization: `Bearer ${await fixture.token()}` });
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const report = res.json();
    assert.equal(report.hsm, 'pkcs11');
    assert.equal(report.status, 'healthy');
    assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
    assert.equal(report.pkcs11.tokenLabel, LOCAL_TOKEN_LABEL);
    assert.equal(report.pkcs11.reachable, true);
    assert.equal(report.pkcs11.loggedIn, true);
    assert.equal(report.pkcs11.pinLocked, false);
    assert.match(report.pkcs11.manufacturer, /SoftHSM/);
    assert.equal(report.cloudHsm, undefined);
    assert.equal(report.kms, undefined);
    assert.equal(report.error, undefined);
  });

  it('never shows the PIN, nor where it is kept', async () => {
    const pin = readFileSync(join(fixture.dataDir, 'softhsm', 'user-pin'), 'utf8').trim();
    assert.ok(pin.length >= 4);
    const res = await get({ authorization: `Bearer ${await fixture.token()}` });
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes(pin), 'the PIN is in the answer');
    assert.ok(!/pin-?file|user-pin|"pin"/i.test(res.text), res.text);
  });

  it('refuses a principal with no deployment role with 403', async () => {
    const outsider = await fixture.vault.issuer.createClient('hsm-health-outsider');
    const token = await fixture.vault.issuer.mintToken({ clientId: outsider.clientId });
    const res = await get({ authorization: `Bearer ${token}` });
    assert.equal(res.status, 403, res.text);
    const body = res.json();
    assert.equal(body.error.code, 'Forbidden');
    assert.equal(body.pkcs11, undefined);
    assert.match(body.error.message, /vaults\/read/);
  });

  it('answers a request without a token with 401 and the challenge', async () => {
    const res = await get();
    assert.equal(res.status, 401, res.text);
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    assert.equal(res.json().error.code, 'Unauthorized');
    assert.equal(res.json().pkcs11, undefined);
  });

  it('answers 503 with the report when the token cannot be opened (for monitors), and 200 once it can', async () => {
    const auth = { authorization: `Bearer ${await fixture.token()}` };
    // The gateway runs the handlers in this process: close the shared session and hide the token.
    const tokens = join(fixture.dataDir, 'softhsm', 'tokens');
    await closeSharedPkcs11Sessions();
    renameSync(tokens, `${tokens}.away`);
    try {
      const res = await get(auth);
      assert.equal(res.status, 503, res.text);
      assert.equal(res.headers['retry-after'], '30');
      const body = res.json();
      assert.equal(body.error.code, 'ServiceUnavailable');
      assert.match(body.error.message, /PKCS#11 token "arca-local" is not usable/);
      assert.equal(body.hsm, 'pkcs11');
      assert.equal(body.status, 'unavailable');
      assert.equal(body.pkcs11.reachable, false);
      assert.equal(body.pkcs11.tokenLabel, LOCAL_TOKEN_LABEL);
      assert.match(body.pkcs11.error, /CKR_|token/);
    } finally {
      renameSync(`${tokens}.away`, tokens);
      await closeSharedPkcs11Sessions();
    }
    const again = await get(auth);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json().pkcs11.reachable, true);
  });

  it('is on the bare domain only: a vault host answers 404', async () => {
    const res = await get({
      authorization: `Bearer ${await fixture.token()}`,
      host: `dev.localhost:${fixture.vault.port}`,
    });
    assert.equal(res.status, 404, res.text);
  });
});
