import type { LocalClient } from './client-registry.ts';
import type { Failure } from './oidc-errors.ts';
import { header, type IssuerRequest, type IssuerResponse, NO_STORE } from './oidc-http.ts';
import { TOKEN_LIFETIME_SECONDS } from './oidc-signing-key.ts';

/** What the token endpoint needs from the issuer. */
export interface TokenEndpointContext {
  /** Resources tokens may be issued for, without trailing slashes. */
  audiences: readonly string[];
  /** The client for these credentials, or undefined; compares secrets in constant time. */
  authenticate(clientId: string, clientSecret: string): Promise<LocalClient | undefined>;
  /** A signed access token for `client` and `audience`. */
  sign(client: LocalClient, audience: string): Promise<string>;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/**
 * The token endpoint (POST `/{tenantId}/oauth2/v2.0/token`): the client-credentials grant, with the
 * client authenticated by client_secret_post or client_secret_basic. Errors are OAuth2 error
 * responses in Entra's shape.
 */
export async function tokenResponse(
  context: TokenEndpointContext,
  request: IssuerRequest,
  failure: Failure,
): Promise<IssuerResponse> {
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
  if (basic && (form.has('client_secret') || (form.has('client_id') && form.get('client_id') !== clientId))) {
    return failure.respond(400, 'invalid_request', 90014, 'Use one client authentication method.');
  }
  if (!clientId) return failure.respond(400, 'invalid_request', 900144, missing('client_id'));
  if (!clientSecret) {
    return failure.respond(401, 'invalid_client', 7000218, missing('client_secret'), Boolean(basic));
  }
  const client = await context.authenticate(clientId, clientSecret);
  if (!client) {
    const description = 'Invalid client credentials: unknown client or wrong secret.';
    return failure.respond(401, 'invalid_client', 7000215, description, Boolean(basic));
  }

  const scope = form.get('scope');
  if (!scope) return failure.respond(400, 'invalid_request', 900144, missing('scope'));
  const audience = audienceOf(scope, context.audiences);
  if (!audience) {
    const served = context.audiences.map((served) => `${served}/.default`).join(', ');
    return failure.respond(400, 'invalid_scope', 70011, `The scope must be one of: ${served}.`);
  }

  const accessToken = await context.sign(client, audience);
  const expiresIn = TOKEN_LIFETIME_SECONDS - 1;
  const body = {
    token_type: 'Bearer',
    expires_in: expiresIn,
    ext_expires_in: expiresIn,
    access_token: accessToken,
  };
  return { status: 200, headers: { ...NO_STORE }, body: JSON.stringify(body) };
}

export function trimSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}

/** The audience of a client-credentials scope: one `{resource}/.default`, besides OIDC scopes. */
function audienceOf(scope: string, audiences: readonly string[]): string | undefined {
  const requested = scope.split(/\s+/).filter((item) => item && !OIDC_SCOPES.has(item));
  const only = requested.length === 1 ? requested[0] : undefined;
  if (!only?.endsWith('/.default')) return undefined;
  const audience = trimSlashes(only.slice(0, -'/.default'.length));
  return audiences.includes(audience) ? audience : undefined;
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
