import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { challengeHeader } from './challenge.ts';
import { errorResponse } from './error-boundary.ts';
import { type OperationResult, toProxyResult } from './responses.ts';
import { headerOf } from './vault-request.ts';

/** What a request's parsing learned that its error response needs: the tenant the 401 challenge names. */
export interface ChallengeState {
  tenantId: string;
}

/**
 * The one boundary every handler shares: runs the operation, turns any error
 * into a KeyVaultError body (a 401 also carries the challenge the SDKs
 * follow), and adds the request ids.
 */
export async function withBoundary(
  event: APIGatewayProxyEventV2,
  context: Context,
  handle: (
    ids: { requestId: string; clientRequestId?: string },
    challenge: ChallengeState,
  ) => Promise<OperationResult>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
  const clientRequestId = headerOf(event, 'x-ms-client-request-id');
  const challenge: ChallengeState = { tenantId: '' };
  let response: APIGatewayProxyStructuredResultV2;
  try {
    response = toProxyResult(
      await handle({ requestId, ...(clientRequestId && { clientRequestId }) }, challenge),
    );
  } catch (error) {
    response = errorResponse(error, requestId);
    if (response.statusCode === 401) {
      const { config } = container();
      response.headers = {
        ...response.headers,
        'www-authenticate': challengeHeader(
          config.ARCA_CHALLENGE_AUTHORITY,
          challenge.tenantId || config.ARCA_TENANT_ID,
          config.ARCA_CHALLENGE_RESOURCE,
        ),
      };
    }
  }
  response.headers = {
    ...response.headers,
    'x-ms-request-id': requestId,
    'x-ms-keyvault-service-version': 'arca-0.1',
    ...(clientRequestId && { 'x-ms-client-request-id': clientRequestId }),
  };
  return response;
}

export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError('AKV10000: Request is missing a Bearer or PoP token.');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw new UnauthorizedError('AKV10001: The Authorization header is not a Bearer token.');
  return match[1];
}
