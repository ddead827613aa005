import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { ensureLocalCa, type LocalTls } from '#lib/local/local-ca.ts';
import { type ClientCredentials, type IssuerResponse, LocalIssuer } from '#lib/local/oidc-issuer.ts';

const VAULT_SCOPE = 'https://vault.azure.net/.default';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const repoRoot = join(import.meta.dirname, '..', '..');

/**
 * Runs the real ClientSecretCredential in a child process that trusts the local CA through
 * NODE_EXTRA_CA_CERTS (read only at start). Credentials go in on stdin, never in argv.
 */
const CREDENTIAL_SCRIPT = `
import { ClientSecretCredential } from '@azure/identity';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { tenantId, clientId, clientSecret, authorityHost, scope } = JSON.parse(input);
const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, {
  authorityHost,
  disableInstanceDiscovery: true,
});
const out = {};
try {
  out.plain = await credential.getToken(scope);
  out.cae = await credential.getToken(scope, { tenantId, enableCae: true });
} catch (error) {
  out.error = { name: error.name, message: error.message };
}
process.stdout.write(JSON.stringify(out));
`;

interface CredentialRun {
  plain?: { token: string; expiresOnTimestamp: number };
  cae?: { token: string; expiresOnTimestamp: number };
  error?: { name: string; message: string };
}

function runCredential(caCertPath: string, input: Record<string, string>): Promise<CredentialRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '--eval', CREDENTIAL_SCRIPT], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: caCertPath, NO_PROXY: 'localhost,127.0.0.1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as CredentialRun);
      else reject(new Error(`credential process exited ${code}: ${stderr}`));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

function tokenRequest(
  issuer: LocalIssuer,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<IssuerResponse | undefined> {
  return issuer.handle({
    method: 'POST',
    path: `/${issuer.tenantId}/oauth2/v2.0/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: Buffer.from(new URLSearchParams(fields).toString()),
  });
}

function bodyOf(response: IssuerResponse | undefined): Record<string, unknown> {
  assert.ok(response, 'the issuer answered');
  return JSON.parse(response.body) as Record<string, unknown>;
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('LocalIssuer', () => {
  const tenantId = randomUUID();
  let root: string;
  let dir: string;
  let tls: LocalTls;
  let server: Server;
  let issuer: LocalIssuer;
  let client: ClientCredentials;
  const requested: string[] = [];

  async function verify(token: string, audience = 'https://vault.azure.net') {
    const jwks = JSON.parse(await readFile(issuer.jwksPath, 'utf8')) as JSONWebKeySet;
    return jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: issuer.issuer,
      audience,
      algorithms: ['RS256'],
    });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'arca-issuer-'));
    dir = join(root, 'issuer');
    tls = await ensureLocalCa(join(root, 'tls'));
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        requested.push(`${request.method} ${request.url}`);
        const answer = await issuer.handle({
          method: request.method ?? 'GET',
          path: request.url ?? '/',
          headers: request.headers as Record<string, string | undefined>,
          body: Buffer.concat(chunks),
        });
        response.writeHead(answer?.status ?? 404, answer?.headers ?? {});
        response.end(answer?.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    issuer = await LocalIssuer.open({ dir, authorityHost: `https://localhost:${port}`, tenantId });
    client = await issuer.createClient('test app');
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('gives ClientSecretCredential a vault token, over TLS it verifies', async () => {
    const port = (server.address() as AddressInfo).port;
    const run = await runCredential(tls.caCertPath, {
      tenantId,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      authorityHost: `https://localhost:${port}`,
      scope: VAULT_SCOPE,
    });
    assert.equal(run.error, undefined);
    assert.ok(run.plain && run.cae);
    for (const token of [run.plain.token, run.cae.token]) {
      const { payload, protectedHeader } = await verify(token);
      assert.deepEqual(protectedHeader, { alg: 'RS256', kid: issuer.jwks().keys[0]?.kid, typ: 'JWT' });
      assert.equal(payload.iss, `https://localhost:${port}/${tenantId}/v2.0`);
      assert.equal(payload.sub, client.objectId);
      assert.equal(payload.oid, client.objectId);
      assert.equal(payload.appid, client.clientId);
      assert.equal(payload.azp, client.clientId);
      assert.equal(payload.tid, tenantId);
      assert.equal(payload.ver, '2.0');
      assert.match(String(payload.jti), UUID);
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600);
      assert.equal(payload.nbf, payload.iat);
    }
    // MSAL used only the tenant's discovery document and token endpoint: no instance discovery.
    assert.deepEqual([...new Set(requested.map((line) => line.split('?')[0]))].sort(), [
      `GET /${tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${tenantId}/oauth2/v2.0/token`,
    ]);
  });

  it('makes ClientSecretCredential fail with a wrong secret', async () => {
    const port = (server.address() as AddressInfo).port;
    const wrongSecret = `${client.clientSecret}x`;
    const run = await runCredential(tls.caCertPath, {
      tenantId,
      clientId: client.clientId,
      clientSecret: wrongSecret,
      authorityHost: `https://localhost:${port}`,
      scope: VAULT_SCOPE,
    });
    // @azure/identity turns every MSAL server error into AuthenticationRequiredError, as with Entra.
    assert.equal(run.error?.name, 'AuthenticationRequiredError');
    assert.match(run.error?.message ?? '', /^invalid_client: Error\(s\): 7000215 /);
    assert.doesNotMatch(run.error?.message ?? '', new RegExp(wrongSecret));
  });

  it('answers a token request with an Entra-shaped, uncacheable response', async () => {
    const response = await tokenRequest(issuer, {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: VAULT_SCOPE,
    });
    assert.equal(response?.status, 200);
    assert.equal(response?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(response?.headers['cache-control'], 'no-store');
    const body = bodyOf(response);
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'ext_expires_in',
      'token_type',
    ]);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3599);
    assert.equal(body.ext_expires_in, 3599);
    await verify(String(body.access_token));
  });

  it('accepts HTTP Basic client authentication', async () => {
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const response = await tokenRequest(
      issuer,
      { grant_type: 'client_credentials', scope: VAULT_SCOPE },
      { authorization: `Basic ${basic}` },
    );
    assert.equal(response?.status, 200);
  });

  it('refuses a wrong secret with 401 invalid_client, and never echoes it', async () => {
    // Change the last character (to one it is not: a secret that already ends in 'A' would stay right).
    const last = client.clientSecret.slice(-1);
    const wrongSecret = `${client.clientSecret.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
    const fields = { grant_type: 'client_credentials', client_id: client.clientId, scope: VAULT_SCOPE };
    const response = await tokenRequest(issuer, { ...fields, client_secret: wrongSecret });
    assert.equal(response?.status, 401);
    const body = bodyOf(response);
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000215]);
    assert.match(String(body.trace_id), UUID);
    assert.ok(!response?.body.includes(wrongSecret));

    const basic = Buffer.from(`${client.clientId}:${wrongSecret}`).toString('base64');
    const viaBasic = await tokenRequest(
      issuer,
      { grant_type: 'client_credentials', scope: VAULT_SCOPE },
      { authorization: `Basic ${basic}` },
    );
    assert.equal(viaBasic?.status, 401);
    assert.match(viaBasic?.headers['www-authenticate'] ?? '', /^Basic /);
  });

  it('refuses an unknown client with the same 401 invalid_client', async () => {
    const response = await tokenRequest(issuer, {
      grant_type: 'client_credentials',
      client_id: randomUUID(),
      client_secret: client.clientSecret,
      scope: VAULT_SCOPE,
    });
    assert.equal(response?.status, 401);
    assert.equal(bodyOf(response).error, 'invalid_client');
  });

  it('refuses another grant type with 400 unsupported_grant_type', async () => {
    const response = await tokenRequest(issuer, {
      grant_type: 'password',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: VAULT_SCOPE,
    });
    assert.equal(response?.status, 400);
    assert.equal(bodyOf(response).error, 'unsupported_grant_type');
  });

  it('refuses a scope for an audience it does not serve with 400 invalid_scope', async () => {
    for (const scope of [
      'https://storage.azure.com/.default',
      'https://vault.azure.net/user_impersonation',
    ]) {
      const response = await tokenRequest(issuer, {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope,
      });
      assert.equal(response?.status, 400, scope);
      assert.equal(bodyOf(response).error, 'invalid_scope', scope);
    }
  });

  it('refuses a request body that is not a form with 400 invalid_request', async () => {
    const response = await issuer.handle({
      method: 'POST',
      path: `/${tenantId}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ grant_type: 'client_credentials' })),
    });
    assert.equal(response?.status, 400);
    assert.equal(bodyOf(response).error, 'invalid_request');
  });

  it('publishes a discovery document that points at its own endpoints', async () => {
    for (const path of [
      `/${tenantId}/v2.0/.well-known/openid-configuration`,
      `/${tenantId}/.well-known/openid-configuration`,
    ]) {
      const response = await issuer.handle({ method: 'GET', path, headers: {}, body: Buffer.alloc(0) });
      assert.equal(response?.status, 200);
      const document = bodyOf(response);
      assert.equal(document.issuer, issuer.issuer);
      assert.equal(document.token_endpoint, issuer.issuer.replace(/v2\.0$/, 'oauth2/v2.0/token'));
      assert.equal(document.jwks_uri, issuer.issuer.replace(/v2\.0$/, 'discovery/v2.0/keys'));
      assert.ok(String(document.authorization_endpoint).endsWith(`/${tenantId}/oauth2/v2.0/authorize`));
      assert.deepEqual(document.grant_types_supported, ['client_credentials']);
      assert.equal(document.tenant_region_scope, null);
    }
  });

  it('publishes only the public signing key', async () => {
    const response = await issuer.handle({
      method: 'GET',
      path: `/${tenantId}/discovery/v2.0/keys`,
      headers: {},
      body: Buffer.alloc(0),
    });
    const { keys } = bodyOf(response) as unknown as JSONWebKeySet;
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0] ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.deepEqual(JSON.parse(await readFile(issuer.jwksPath, 'utf8')), { keys });
  });

  it('passes on paths that are not its own, and refuses other tenants and methods', async () => {
    const get = (path: string, method = 'GET') =>
      issuer.handle({ method, path, headers: {}, body: Buffer.alloc(0) });
    assert.equal(await get('/secrets/db-password'), undefined);
    assert.equal(await get('/keys/signing/0123/sign', 'POST'), undefined);
    assert.equal(await get('/'), undefined);
    const otherTenant = await get(`/${randomUUID()}/oauth2/v2.0/token`, 'POST');
    assert.equal(otherTenant?.status, 400);
    assert.equal(bodyOf(otherTenant).error, 'invalid_tenant');
    const wrongMethod = await get(`/${tenantId}/oauth2/v2.0/token`);
    assert.equal(wrongMethod?.status, 405);
    assert.equal(wrongMethod?.headers.allow, 'POST');
  });

  it('mints tokens for tests that verify against the JWKS', async () => {
    const token = await issuer.mintToken({ clientId: client.clientId, extraClaims: { roles: ['Reader'] } });
    const { payload } = await verify(token);
    assert.deepEqual(payload.roles, ['Reader']);
    assert.equal(payload.oid, client.objectId);
    const expired = await issuer.mintToken({ clientId: client.clientId, lifetimeSeconds: -60 });
    await assert.rejects(verify(expired), { code: 'ERR_JWT_EXPIRED' });
  });

  it('keeps the signing key and the clients across a restart', async () => {
    const dev = await issuer.ensureDevClient();
    const authorityHost = issuer.issuer.replace(`/${tenantId}/v2.0`, '');
    const reopened = await LocalIssuer.open({ dir, authorityHost, tenantId });
    assert.deepEqual(reopened.jwks(), issuer.jwks());
    assert.deepEqual(await reopened.listClients(), await issuer.listClients());
    assert.deepEqual(await reopened.ensureDevClient(), dev);
    const response = await tokenRequest(reopened, {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: VAULT_SCOPE,
    });
    assert.equal(response?.status, 200);
    const token = String(bodyOf(response).access_token);
    assert.equal(decodeProtectedHeader(token).kid, issuer.jwks().keys[0]?.kid);
    await verify(token);
  });

  it('stores no client secret, only hashes, in files only the owner can read', async () => {
    const dev = await issuer.ensureDevClient();
    const clientsFile = await readFile(join(dir, 'clients.json'), 'utf8');
    assert.ok(!clientsFile.includes(client.clientSecret));
    assert.ok(!clientsFile.includes(dev.clientSecret));
    assert.ok(clientsFile.includes(client.clientId));
    assert.deepEqual((await issuer.listClients()).map((c) => c.displayName).sort(), ['arca-dev', 'test app']);
    assert.ok(!JSON.stringify(await issuer.listClients()).includes('secret'));
    assert.equal(await mode(dir), 0o700);
    for (const file of ['signing-key.json', 'clients.json', 'dev-client.json']) {
      assert.equal(await mode(join(dir, file)), 0o600, file);
    }
  });

  it('serves extra audiences when configured', async () => {
    const authorityHost = issuer.issuer.replace(`/${tenantId}/v2.0`, '');
    const audiences = ['https://vault.azure.net', 'https://localhost'];
    const wide = await LocalIssuer.open({ dir, authorityHost, tenantId, audiences });
    const response = await tokenRequest(wide, {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      scope: 'https://localhost/.default',
    });
    assert.equal(response?.status, 200);
    await verify(String(bodyOf(response).access_token), 'https://localhost');
  });
});
