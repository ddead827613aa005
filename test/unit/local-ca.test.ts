import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureLocalCa, type LocalTls } from '#lib/local/local-ca.ts';

const DAY_MS = 86_400_000;

interface Target {
  /** The host name the client verifies, or undefined to verify the IP address it connects to. */
  servername?: string;
  ca?: string;
}

/** GETs / over TLS from 127.0.0.1:port with verification on; resolves with the Host the server saw. */
function fetchHost(port: number, { servername, ca }: Target): Promise<string> {
  return new Promise((resolve, reject) => {
    const host = servername ?? '127.0.0.1';
    const request = get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername,
        ca,
        agent: false,
        headers: { host: `${host}:${port}` },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve(body));
      },
    );
    request.on('error', reject);
  });
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('ensureLocalCa', () => {
  let dir: string;
  let tls: LocalTls;
  let server: Server;
  let port: number;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'arca-ca-')), 'tls');
    tls = await ensureLocalCa(dir, { hostNames: ['dev.localhost'] });
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
      response.end(request.headers.host);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('serves https://localhost to a client that trusts the CA', async () => {
    assert.equal(await fetchHost(port, { servername: 'localhost', ca: tls.caCertPem }), `localhost:${port}`);
  });

  it('serves a vault host such as https://dev.localhost', async () => {
    const host = await fetchHost(port, { servername: 'dev.localhost', ca: tls.caCertPem });
    assert.equal(host, `dev.localhost:${port}`);
  });

  it('serves https://127.0.0.1 through the IP address in the certificate', async () => {
    assert.equal(await fetchHost(port, { ca: tls.caCertPem }), `127.0.0.1:${port}`);
  });

  it('is refused by a client that does not trust the CA', async () => {
    await assert.rejects(fetchHost(port, { servername: 'localhost' }), (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
      return true;
    });
  });

  it('is refused for a host name it was not issued for', async () => {
    await assert.rejects(fetchHost(port, { servername: 'other.localhost', ca: tls.caCertPem }), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('returns the same files, byte for byte, on a second call', async () => {
    const before = await readFile(join(dir, 'server.pem'));
    const again = await ensureLocalCa(dir, { hostNames: ['dev.localhost'] });
    assert.deepEqual(again, tls);
    assert.deepEqual(await readFile(join(dir, 'server.pem')), before);
    assert.equal(await readFile(tls.caCertPath, 'utf8'), tls.caCertPem);
  });

  it('keeps private keys readable by the owner only', async () => {
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(join(dir, 'ca-key.pem')), 0o600);
    assert.equal(await mode(join(dir, 'server-key.pem')), 0o600);
    assert.equal(await mode(join(dir, 'server.pem')), 0o600);
    assert.equal(await mode(tls.caCertPath), 0o644);
  });

  it('issues a CA for 10 years and a server certificate for at most 397 days', () => {
    const ca = new X509Certificate(tls.caCertPem);
    const cert = new X509Certificate(tls.certPem);
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, 'CN=Arca Local Development CA');
    assert.ok(Date.parse(ca.validTo) - Date.parse(ca.validFrom) >= 3650 * DAY_MS);
    assert.equal(cert.ca, false);
    assert.ok(Date.parse(cert.validTo) - Date.parse(cert.validFrom) <= 397 * DAY_MS);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.match(String(cert.subjectAltName), /DNS:\*\.localhost/);
  });

  it('refuses a host name outside localhost, which the CA may not sign', async () => {
    await assert.rejects(ensureLocalCa(dir, { hostNames: ['example.com'] }), /not a localhost host name/);
  });

  it('adds a new vault host by re-issuing from the same CA, keeping earlier names', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'arca-ca-'));
    try {
      const first = await ensureLocalCa(scratch, { hostNames: ['dev.localhost'] });
      const second = await ensureLocalCa(scratch, { hostNames: ['payments.localhost'] });
      assert.equal(second.caCertPem, first.caCertPem);
      assert.notEqual(second.certPem, first.certPem);
      const cert = new X509Certificate(second.certPem);
      assert.equal(cert.checkHost('dev.localhost'), 'dev.localhost');
      assert.equal(cert.checkHost('payments.localhost'), 'payments.localhost');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('re-issues the server certificate from the same CA when it expires within 30 days', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'arca-ca-'));
    try {
      const first = await ensureLocalCa(scratch);
      const early = await ensureLocalCa(scratch, { now: new Date(Date.now() + 360 * DAY_MS) });
      assert.equal(early.certPem, first.certPem);

      const late = await ensureLocalCa(scratch, { now: new Date(Date.now() + 370 * DAY_MS) });
      assert.equal(late.caCertPem, first.caCertPem);
      assert.notEqual(late.certPem, first.certPem);
      const renewed = new X509Certificate(late.certPem);
      const ca = new X509Certificate(late.caCertPem);
      assert.ok(renewed.checkIssued(ca) && renewed.verify(ca.publicKey));
      assert.ok(Date.parse(renewed.validTo) > Date.parse(new X509Certificate(first.certPem).validTo));
      assert.equal(await mode(join(scratch, 'server-key.pem')), 0o600);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
