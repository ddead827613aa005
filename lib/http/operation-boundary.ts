import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { uriWithoutQueryValues } from '../audit/audit-record.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import { KeyVaultError, ServiceUnavailableError, UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { challengeHeader } from './challenge.ts';
import { errorResponse } from './error-boundary.ts';
import { type OperationResult, toProxyResult } from './responses.ts';
import { headerOf } from './vault-request.ts';

/** What a request's parsing learned that its error response needs: the tenant the 401 challenge names. */
export interface ChallengeState {
  tenantId: string;
}

export interface RequestIds {
  readonly requestId: string;
  readonly clientRequestId?: string;
}

/**
 * The one boundary every handler shares: runs the operation, makes its audit
 * record durable before anything leaves (a record that cannot be stored turns
 * the answer into a 503 that discloses nothing), turns any error into a
 * KeyVaultError body (a 401 also carries the challenge the SDKs follow), and
 * adds the request and correlation ids.
 */
export async function withBoundary(
  event: APIGatewayProxyEventV2,
  context: Context,
  handle: (ids: RequestIds, challenge: ChallengeState, audit: AuditTrail) => Promise<OperationResult>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
  const clientRequestId = headerOf(event, 'x-ms-client-request-id');
  const correlationId = clientRequestId ?? requestId;
  const challenge: ChallengeState = { tenantId: '' };
  let response: APIGatewayProxyStructuredResultV2;
  let audit: AuditTrail | undefined;
  try {
    audit = auditTrail(event, correlationId);
    const result = await handle({ requestId, ...(clientRequestId && { clientRequestId }) }, challenge, audit);
    await audit.settle(result.status);
    response = toProxyResult(result);
  } catch (error) {
    response = errorResponse(error, requestId);
    try {
      await audit?.settle(
        response.statusCode ?? 500,
        error instanceof KeyVaultError ? error.code : 'InternalServerError',
      );
    } catch (auditError) {
      response = errorResponse(auditError instanceof KeyVaultError ? auditError : unrecorded(), requestId);
    }
    if (response.statusCode === 401)
      response.headers = { ...response.headers, 'www-authenticate': challengeFor(challenge) };
  }
  response.headers = {
    ...response.headers,
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': correlationId,
    'x-ms-keyvault-service-version': 'arca-0.1',
    ...(clientRequestId && { 'x-ms-client-request-id': clientRequestId }),
  };
  return response;
}

/** Runs a read while its record is written; neither answer leaves before the record is durable. */
export async function readWithRecord(
  audit: AuditTrail,
  read: () => Promise<OperationResult>,
): Promise<OperationResult> {
  const [result, recorded] = await Promise.allSettled([read(), audit.writeAhead()]);
  if (recorded.status === 'rejected')
    throw recorded.reason instanceof KeyVaultError ? recorded.reason : unrecorded();
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError('AKV10000: Request is missing a Bearer or PoP token.');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw new UnauthorizedError('AKV10001: The Authorization header is not a Bearer token.');
  return match[1];
}

function auditTrail(event: APIGatewayProxyEventV2, correlationId: string): AuditTrail {
  const { auditLog } = container();
  const host = headerOf(event, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const url = new URL(`${event.rawPath ?? '/'}?${event.rawQueryString ?? ''}`, `https://${host}`);
  return new AuditTrail(auditLog, {
    id: randomUUID(),
    time: new Date().toISOString(),
    correlationId,
    callerIpAddress: event.requestContext?.http?.sourceIp ?? '',
    clientInfo: (headerOf(event, 'user-agent') ?? '').slice(0, 256),
    requestUri: uriWithoutQueryValues(url),
  });
}

const unrecorded = () =>
  new ServiceUnavailableError(
    'The audit record could not be made durable; nothing was disclosed or changed.',
  );

function challengeFor(state: ChallengeState): string {
  const { config } = container();
  return challengeHeader(
    config.ARCA_CHALLENGE_AUTHORITY,
    state.tenantId || config.ARCA_TENANT_ID,
    config.ARCA_CHALLENGE_RESOURCE,
  );
}
