import { randomUUID } from 'node:crypto';
import { type IssuerResponse, NO_STORE } from './oidc-http.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Error responses in Entra's shape. MSAL builds its error message from error_codes, timestamp,
 * error_description, correlation_id and trace_id, so the description does not repeat them.
 */
export class Failure {
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
