/** The request and response shapes the local gateway exchanges with the issuer, and shared headers. */

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

export const JSON_TYPE = 'application/json; charset=utf-8';
export const NO_STORE = { 'content-type': JSON_TYPE, 'cache-control': 'no-store', pragma: 'no-cache' };

/** A request header by case-insensitive name (`name` in lower case). */
export function header(request: IssuerRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}
