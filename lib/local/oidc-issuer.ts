import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { importJWK, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import {
  type ClientCredentials,
  ClientRegistry,
  type LocalClient,
  writeJsonAtomic,
} from './client-registry.ts';
import { discoveryResponse, jwksResponse } from './oidc-discovery.ts';
import { Failure } from './oidc-errors.ts';
import { header, type IssuerRequest, type IssuerResponse } from './oidc-http.ts';
import { ALG, loadOrCreateSigningKey, signAccessToken } from './oidc-signing-key.ts';
import { type TokenEndpointContext, tokenResponse, trimSlashes } from './oidc-token-endpoint.ts';

export type { ClientCredentials, LocalClient } from './client-registry.ts';
export type { IssuerRequest, IssuerResponse } from './oidc-http.ts';

export interface LocalIssuerOptions {
  /** Folder for the signing key, the clients and the dev client's credentials (created 0700). */
  dir: string;
  /** Scheme, host and port the clients use, such as `https://localhost:8443`. */
  authorityHost: string;
  tenantId: string;
  /** Resources tokens may be issued for; a token request's scope is `{audience}/.default`. */
  audiences?: string[];
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
const DEFAULT_AUDIENCES = ['https://vault.azure.net'];
const DEV_CLIENT_NAME = 'arca-dev';
const INTERACTIVE_UNSUPPORTED =
  'The local issuer supports only the client credentials grant at the token endpoint; no interactive sign-in.';

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
  private readonly tokenEndpoint: TokenEndpointContext;

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
    this.tokenEndpoint = {
      audiences,
      authenticate: (clientId, clientSecret) => this.clients.authenticate(clientId, clientSecret),
      sign: (client, audience) => this.sign(client, audience, {}),
    };
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
        return discoveryResponse({
          issuer: this.issuer,
          authorityHost: this.authorityHost,
          tenantId: this.tenantId,
          audiences: this.audiences,
        });
      case 'keys':
        return jwksResponse(this.jwks());
      case 'interactive':
        return failure.respond(400, 'unsupported_response_type', 70000, INTERACTIVE_UNSUPPORTED);
      case 'token':
        return tokenResponse(this.tokenEndpoint, request, failure);
    }
  }

  private async sign(
    client: LocalClient,
    audience: string,
    options: Omit<MintTokenOptions, 'clientId'>,
  ): Promise<string> {
    const signer = {
      issuer: this.issuer,
      tenantId: this.tenantId,
      signingKey: this.signingKey,
      kid: this.publicJwk.kid,
    };
    return signAccessToken(signer, client, audience, options);
  }
}

function checkAuthorityHost(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error('authorityHost must be https://host[:port], without a path');
  }
  return url.origin;
}
