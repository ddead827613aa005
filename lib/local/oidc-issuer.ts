import { randomUUID } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import {
  type ClientCredentials,
  ClientRegistry,
  type LocalClient,
  readJson,
  writeJsonAtomic,
} from './client-registry.ts';

export type { ClientCredentials, LocalClient } from './client-registry.ts';

export interface LocalIssuerOptions {
  /** Folder for the signing key, the clients and the dev client's credentials (created 0700). */
  dir: string;
  /** Scheme, host and port the clients use, such as `https://localhost:8443`. */
  authorityHost: string;
  tenantId: string;
  /** Resources tokens may be issued for; a token request's scope is `{audience}/.default`. */
  audiences?: string[];
}

export interface IssuerRequest {
  method: string;
  /** The request path, with or without its query string. */
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface IssuerResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface MintTokenOptions {
  clientId: string;
  audience?: string;
  lifetimeSeconds?: number;
  /** Added to the token, overriding the standard claims of the same name (for tests of rejection). */
  extraClaims?: JWTPayload;
}

type Endpoint = 'discovery' | 'keys' | 'token' | 'interactive';

const ENDPOINTS = new Map<string, Endpoint>([
  ['v2.0/.well-known/openid-configuration', 'discovery'],
  ['.well-known/openid-configuration', 'discovery'],
  ['discovery/v2.0/keys', 'keys'],
  ['oauth2/v2.0/token', 'token'],
  ['oauth2/v2.0/authorize', 'interactive'],
  ['oauth2/v2.0/logout', 'interactive'],
]);
const ALG = 'RS256';
const DEFAULT_AUDIENCES = ['https://vault.azure.net'];
const TOKEN_LIFETIME_SECONDS = 3600;
const DEV_CLIENT_NAME = 'arca-dev';
const JSON_TYPE = 'application/json; charset=utf-8';
const NO_STORE = { 'content-type': JSON_TYPE, 'cache-control': 'no-store', pragma: 'no-cache' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The local-mode OAuth2 issuer: an Entra ID look-alike that @azure/identity's
 * ClientSecretCredential (with `authorityHost` and `disableInstanceDiscovery: true`) uses unchanged.
 * It serves discovery, JWKS and a client-credentials token endpoint under `/{tenantId}`, and is not
 * a server: the local gateway offers it each request through `handle` first.
 *
 * Files in `dir`: signing-key.json (the private RS256 JWK, 0600), jwks.json (its public half, for
 * jose's createLocalJWKSet), clients.json (0600; per client its ids, name and only a SHA-256 of its
 * secret) and dev-client.json (0600; see `ensureDevClient`).
 */
export class LocalIssuer {
  /** The `iss` of every token, as Entra v2.0 spells it: `{authorityHost}/{tenantId}/v2.0`. */
  readonly issuer: string;
  readonly jwksPath: string;
  readonly tenantId: string;
  readonly audiences: readonly string[];
  private readonly authorityHost: string;
  private readonly clients: ClientRegistry;

  private constructor(
    private readonly dir: string,
    authorityHost: string,
    tenantId: string,
    audiences: string[],
    private readonly signingKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {
    this.authorityHost = authorityHost;
    this.tenantId = tenantId;
    this.audiences = audiences;
    this.issuer = `${authorityHost}/${tenantId}/v2.0`;
    this.jwksPath = join(dir, 'jwks.json');
    this.clients = new ClientRegistry(join(dir, 'clients.json'));
  }

  /** Loads the issuer's state from `dir`, creating the signing key on first use. */
  static async open(options: LocalIssuerOptions): Promise<LocalIssuer> {
    const authorityHost = checkAuthorityHost(options.authorityHost);
    if (!/^[\w.-]+$/.test(options.tenantId)) throw new Error('tenantId must be a plain path segment');
    const audiences = (options.audiences ?? DEFAULT_AUDIENCES).map(trimSlashes);
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const privateJwk = await loadOrCreateSigningKey(join(options.dir, 'signing-key.json'));
    const { kty, n, e, kid, alg, use } = privateJwk;
    const publicJwk: JWK = { kty, n, e, kid, alg, use };
    const signingKey = (await importJWK(privateJwk, ALG)) as CryptoKey;
    const issuer = new LocalIssuer(
      options.dir,
      authorityHost,
      options.tenantId,
      audiences,
      signingKey,
      publicJwk,
    );
    await writeJsonAtomic(issuer.jwksPath, issuer.jwks(), 0o644);
    return issuer;
  }

  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** A new client; its secret is in the result only, never stored. */
  createClient(displayName: string): Promise<ClientCredentials> {
    return this.clients.create(displayName);
  }

  listClients(): Promise<LocalClient[]> {
    return this.clients.list();
  }

  /**
   * The 'arca-dev' client, created on first call. The registry keeps only a hash of a secret, so
   * the dev client's credentials are also kept in dev-client.json (0600): `npm start` can then print
   * them on every start. Delete that file to get a new dev client.
   */
  ensureDevClient(): Promise<ClientCredentials> {
    return this.clients.ensureClient(DEV_CLIENT_NAME, join(this.dir, 'dev-client.json'));
  }

  /** Signs an access token for a registered client without a token request (for tests and tools). */
  async mintToken(options: MintTokenOptions): Promise<string> {
    const client = await this.clients.find(options.clientId);
    if (!client) throw new Error('unknown client');
    return this.sign(client, options.audience ?? this.audiences[0] ?? '', options);
  }

  /** The response for an issuer path, or undefined when `request` is not for the issuer. */
  async handle(request: IssuerRequest): Promise<IssuerResponse | undefined> {
    const pathname = request.path.split('?')[0] ?? '';
    const slash = pathname.indexOf('/', 1);
    const endpoint = slash > 0 ? ENDPOINTS.get(pathname.slice(slash + 1)) : undefined;
    if (!pathname.startsWith('/') || !endpoint) return undefined;
    const failure = new Failure(header(request, 'client-request-id'));
    if (pathname.slice(1, slash).toLowerCase() !== this.tenantId.toLowerCase()) {
      return failure.respond(400, 'invalid_tenant', 90002, 'The tenant is not served by this issuer.');
    }
    const method = endpoint === 'token' ? 'POST' : 'GET';
    if (request.method.toUpperCase() !== method) {
      const response = failure.respond(
        405,
        'invalid_request',
        900561,
        `This endpoint only accepts ${method}.`,
      );
      return { ...response, headers: { ...response.headers, allow: method } };
    }
    switch (endpoint) {
      case 'discovery':
        return publicJson(this.discoveryDocument());
      case 'keys':
        return publicJson(this.jwks());
      case 'interactive':
        return failure.respond(400, 'unsupported_response_type', 70000, INTERACTIVE_UNSUPPORTED);
      case 'token':
        return this.token(request, failure);
    }
  }

  private discoveryDocument(): Record<string, unknown> {
    const base = `${this.authorityHost}/${this.tenantId}`;
    return {
      issuer: this.issuer,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      grant_types_supported: ['client_credentials'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      // MSAL requires authorization_endpoint and takes the tenant from its path; it answers 400.
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: [ALG],
      scopes_supported: this.audiences.map((audience) => `${audience}/.default`),
      claims_supported: CLAIMS,
      request_uri_parameter_supported: false,
      http_logout_supported: false,
      frontchannel_logout_supported: false,
      tenant_region_scope: null,
      cloud_instance_name: new URL(this.authorityHost).hostname,
    };
  }

  private async token(request: IssuerRequest, failure: Failure): Promise<IssuerResponse> {
    if (!/^application\/x-www-form-urlencoded\b/i.test(header(request, 'content-type') ?? '')) {
      return failure.respond(
        400,
        'invalid_request',
        900144,
        'The body must be application/x-www-form-urlencoded.',
      );
    }
    const form = new URLSearchParams(request.body.toString('utf8'));
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) {
        return failure.respond(400, 'invalid_request', 90014, `The parameter '${safe(name)}' is repeated.`);
      }
    }
    const grantType = form.get('grant_type');
    if (!grantType) return failure.respond(400, 'invalid_request', 900144, missing('grant_type'));
    if (grantType !== 'client_credentials') {
      return failure.respond(400, 'unsupported_grant_type', 70003, 'Only client_credentials is supported.');
    }

    const basic = parseBasic(header(request, 'authorization'));
    const clientId = basic?.clientId ?? form.get('client_id');
    const clientSecret = basic?.clientSecret ?? form.get('client_secret');
    if (
      basic &&
      (form.has('client_secret') || (form.has('client_id') && form.get('client_id') !== clientId))
    ) {
      return failure.respond(400, 'invalid_request', 90014, 'Use one client authentication method.');
    }
    if (!clientId) return failure.respond(400, 'invalid_request', 900144, missing('client_id'));
    if (!clientSecret) {
      return failure.respond(401, 'invalid_client', 7000218, missing('client_secret'), Boolean(basic));
    }
    const client = await this.clients.authenticate(clientId, clientSecret);
    if (!client) {
      const description = 'Invalid client credentials: unknown client or wrong secret.';
      return failure.respond(401, 'invalid_client', 7000215, description, Boolean(basic));
    }

    const scope = form.get('scope');
    if (!scope) return failure.respond(400, 'invalid_request', 900144, missing('scope'));
    const audience = this.audienceOf(scope);
    if (!audience) {
      const served = this.audiences.map((served) => `${served}/.default`).join(', ');
      return failure.respond(400, 'invalid_scope', 70011, `The scope must be one of: ${served}.`);
    }

    const accessToken = await this.sign(client, audience, {});
    const expiresIn = TOKEN_LIFETIME_SECONDS - 1;
    const body = {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: accessToken,
    };
    return { status: 200, headers: { ...NO_STORE }, body: JSON.stringify(body) };
  }

  /** The audience of a client-credentials scope: one `{resource}/.default`, besides OIDC scopes. */
  private audienceOf(scope: string): string | undefined {
    const requested = scope.split(/\s+/).filter((item) => item && !OIDC_SCOPES.has(item));
    const only = requested.length === 1 ? requested[0] : undefined;
    if (!only?.endsWith('/.default')) return undefined;
    const audience = trimSlashes(only.slice(0, -'/.default'.length));
    return this.audiences.includes(audience) ? audience : undefined;
  }

  private async sign(client: LocalClient, audience: string, options: Omit<MintTokenOptions, 'clientId'>) {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = {
      aud: audience,
      iss: this.issuer,
      iat: now,
      nbf: now,
      exp: now + (options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
      sub: client.objectId,
      oid: client.objectId,
      tid: this.tenantId,
      appid: client.clientId,
      azp: client.clientId,
      azpacr: '1',
      idtyp: 'app',
      app_displayname: client.displayName,
      jti: randomUUID(),
      ver: '2.0',
      ...options.extraClaims,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: this.publicJwk.kid, typ: 'JWT' })
      .sign(this.signingKey);
  }
}

const CLAIMS = ['iss', 'aud', 'sub', 'oid', 'tid', 'appid', 'azp', 'iat', 'nbf', 'exp', 'jti', 'ver'];
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const INTERACTIVE_UNSUPPORTED =
  'The local issuer supports only the client credentials grant at the token endpoint; no interactive sign-in.';

/**
 * Error responses in Entra's shape. MSAL builds its error message from error_codes, timestamp,
 * error_description, correlation_id and trace_id, so the description does not repeat them.
 */
class Failure {
  private readonly correlationId: string;

  constructor(clientRequestId: string | undefined) {
    this.correlationId = clientRequestId && UUID.test(clientRequestId) ? clientRequestId : randomUUID();
  }

  respond(status: number, error: string, code: number, description: string, basic = false): IssuerResponse {
    const traceId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    const body = {
      error,
      error_description: description,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: this.correlationId,
    };
    const headers: Record<string, string> = { ...NO_STORE };
    // RFC 6749 §5.2: a client that tried HTTP Basic gets a challenge for it.
    if (basic) headers['www-authenticate'] = 'Basic realm="arca-local-issuer", charset="UTF-8"';
    return { status, headers, body: JSON.stringify(body) };
  }
}

function publicJson(value: unknown): IssuerResponse {
  return {
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'public, max-age=300' },
    body: JSON.stringify(value),
  };
}

function header(request: IssuerRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** HTTP Basic client authentication: both parts are form-urlencoded first (RFC 6749 §2.3.1). */
function parseBasic(
  authorization: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  try {
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

function missing(parameter: string): string {
  return `The request body must contain the following parameter: '${parameter}'.`;
}

/** Parameter names come from the caller; keep what is echoed short and plain. */
function safe(value: string): string {
  return value.replace(/[^\w.-]/g, '?').slice(0, 64);
}

function trimSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}

function checkAuthorityHost(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error('authorityHost must be https://host[:port], without a path');
  }
  return url.origin;
}

/** The private signing JWK; when two processes create it at once, the first one written wins. */
async function loadOrCreateSigningKey(path: string): Promise<JWK> {
  const saved = await readJson<JWK>(path);
  if (saved) return saved;
  const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, n: jwk.n, e: jwk.e } as JWK);
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify({ ...jwk, kid, alg: ALG, use: 'sig' }), {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    await link(temporary, path); // unlike rename, never replaces a key another process wrote
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return (await readJson<JWK>(path)) as JWK;
}
