import type { JSONWebKeySet } from 'jose';
import { type IssuerResponse, JSON_TYPE } from './oidc-http.ts';
import { ALG } from './oidc-signing-key.ts';

export interface DiscoveryConfig {
  /** The `iss` of every token: `{authorityHost}/{tenantId}/v2.0`. */
  issuer: string;
  authorityHost: string;
  tenantId: string;
  audiences: readonly string[];
}

const CLAIMS = ['iss', 'aud', 'sub', 'oid', 'tid', 'appid', 'azp', 'iat', 'nbf', 'exp', 'jti', 'ver'];

/** The OpenID configuration document, shaped like Entra's v2.0 one. */
export function discoveryResponse(config: DiscoveryConfig): IssuerResponse {
  return publicJson(discoveryDocument(config));
}

/** The public signing keys, served at `/{tenantId}/discovery/v2.0/keys`. */
export function jwksResponse(jwks: JSONWebKeySet): IssuerResponse {
  return publicJson(jwks);
}

function discoveryDocument(config: DiscoveryConfig): Record<string, unknown> {
  const base = `${config.authorityHost}/${config.tenantId}`;
  return {
    issuer: config.issuer,
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
    scopes_supported: config.audiences.map((audience) => `${audience}/.default`),
    claims_supported: CLAIMS,
    request_uri_parameter_supported: false,
    http_logout_supported: false,
    frontchannel_logout_supported: false,
    tenant_region_scope: null,
    cloud_instance_name: new URL(config.authorityHost).hostname,
  };
}

function publicJson(value: unknown): IssuerResponse {
  return {
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'public, max-age=300' },
    body: JSON.stringify(value),
  };
}
