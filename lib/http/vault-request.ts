import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Principal } from '../auth/token-verifier.ts';
import type { AccessGrant } from '../authz/authorize.ts';
import { PayloadTooLargeError } from '../errors.ts';
import type { Vault } from '../vaults/model.ts';
import type { VaultAddress } from './vault-host.ts';

/** 4 MiB: well above any Key Vault body (a 25 KiB secret, a backup of many versions). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** One data-plane request, parsed at the edge; operations see only this. */
export interface VaultRequest {
  readonly operationId: string;
  readonly requestId: string;
  readonly clientRequestId?: string;
  readonly vault: VaultContext;
  readonly apiVersion: string;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Query names decoded (the SDKs send `api%2Dversion`). */
  readonly query: URLSearchParams;
  readonly body?: string;
  readonly principal: Principal;
  /** How the one authorization check let this request through. */
  readonly grant: AccessGrant;
  /** The request's audit record: mutations hand `audit.forChange()` to the store, to commit with the change. */
  readonly audit: AuditTrail;
  /** Object-scoped routes: the object the request is about, as a role scope ('/secrets/{name}'). */
  readonly objectScope?: string;
  /** List routes: the object names (lower-cased) the caller may see, or 'all'. */
  readonly visible: 'all' | ReadonlySet<string>;
  readonly sourceIp?: string;
}

/** The vault a data-plane request is for, as its handlers need it. */
export interface VaultContext extends VaultAddress {
  readonly retentionDays: number;
  readonly purgeProtection: boolean;
  readonly record: Vault;
}

export function queryOf(event: APIGatewayProxyEventV2): URLSearchParams {
  return new URLSearchParams(event.rawQueryString ?? '');
}

export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

export function bodyOf(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  return body;
}

/** Path parameters, URL-decoded (API Gateway passes them encoded). */
export function paramsOf(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) {
    try {
      out[k] = v === undefined ? undefined : decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** nextLink: absolute, carrying the same api-version, so the SDK can GET it verbatim. */
export function nextLink(request: VaultRequest, path: string, token: string | undefined): string | null {
  if (!token) return null;
  const query = new URLSearchParams({ 'api-version': request.apiVersion, $skiptoken: token });
  const max = request.query.get('maxresults');
  if (max) query.set('maxresults', max);
  return `${request.vault.url}${path}?${query.toString().replace('%24skiptoken', '$skiptoken')}`;
}
