/**
 * One audit record per request, in the shape of Azure Key Vault's AuditEvent
 * log. Identifiers only: never a value, key material, token, ciphertext or
 * request body (DESIGN.md #8).
 */
export interface AuditRecord {
  /** Unique per request; shippers deliver at least once, consumers drop repeats by it. */
  readonly id: string;
  readonly time: string;
  readonly resourceId: string;
  /** The vault (lower-cased), or '-' for requests that name none. */
  readonly vault: string;
  readonly operationName: string;
  readonly operationVersion: string;
  readonly category: 'AuditEvent';
  readonly resultType: 'Success' | 'Failure';
  readonly resultSignature: string;
  readonly resultDescription: string;
  readonly durationMs: number;
  readonly callerIpAddress: string;
  readonly correlationId: string;
  readonly identity: { readonly claim: { oid?: string; appid?: string; tid?: string; upn?: string } };
  readonly properties: {
    readonly clientInfo: string;
    /** The URI with query names but no query values. */
    readonly requestUri: string;
    readonly httpStatusCode: number;
    /** The object the request was about, with its version where known. */
    readonly id?: string;
    /** How access was granted: an access policy's object id or a role assignment's name. */
    readonly accessGrant?: { readonly via: string; readonly id: string };
  };
}

const SIGNATURES: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

export const resultSignature = (status: number) => SIGNATURES[status] ?? String(status);

/** The request URI with its query names kept and their values dropped (values can be tokens or names). */
export function uriWithoutQueryValues(url: URL): string {
  const names = [...new Set([...url.searchParams.keys()])];
  return `${url.origin}${url.pathname}${names.length ? `?${names.join('&')}` : ''}`;
}
