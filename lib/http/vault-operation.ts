import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { requireApiVersion } from './api-version.ts';
import { challengeHeader } from './challenge.ts';
import { errorResponse } from './error-boundary.ts';
import { type OperationResult, toProxyResult } from './responses.ts';
import { resolveVaultHost } from './vault-host.ts';
import { bodyOf, headerOf, paramsOf, queryOf, type VaultRequest } from './vault-request.ts';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

/**
 * The middleware chain every data-plane handler shares: resolve the vault
 * from the host, authenticate before anything else (the SDKs' first request
 * is an unauthenticated probe with no body, answered with the challenge),
 * check the api-version, run the operation, and turn any error into a
 * KeyVaultError body at one boundary.
 */
export function vaultOperation(
  operationId: string,
  run: (request: VaultRequest) => Promise<OperationResult>,
) {
  return middy<Event, Result, Error, Context>().handler(async (event, context) => {
    const requestId = context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    const clientRequestId = headerOf(event, 'x-ms-client-request-id');
    let response: Result;
    try {
      response = toProxyResult(await run(await parseRequest(operationId, event, requestId, clientRequestId)));
    } catch (error) {
      response = errorResponse(error, requestId);
      if (response.statusCode === 401)
        response.headers = { ...response.headers, 'www-authenticate': challenge() };
    }
    response.headers = {
      ...response.headers,
      'x-ms-request-id': requestId,
      'x-ms-keyvault-service-version': 'arca-0.1',
      ...(clientRequestId && { 'x-ms-client-request-id': clientRequestId }),
    };
    return response;
  });
}

async function parseRequest(
  operationId: string,
  event: Event,
  requestId: string,
  clientRequestId: string | undefined,
): Promise<VaultRequest> {
  const { config, verifyToken } = container();
  const address = resolveVaultHost(
    headerOf(event, 'host') ?? event.requestContext?.domainName,
    config.ARCA_VAULT_DOMAIN,
    config.ARCA_DEFAULT_VAULT,
  );
  const principal = await verifyToken(bearerToken(headerOf(event, 'authorization')));
  const query = queryOf(event);
  return {
    operationId,
    requestId,
    ...(clientRequestId && { clientRequestId }),
    vault: { ...address, retentionDays: config.ARCA_SOFT_DELETE_RETENTION_DAYS },
    apiVersion: requireApiVersion(query.get('api-version')),
    params: paramsOf(event),
    query,
    ...(event.body != null && { body: bodyOf(event) }),
    principal,
    ...(event.requestContext?.http?.sourceIp && { sourceIp: event.requestContext.http.sourceIp }),
  };
}

function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError('AKV10000: Request is missing a Bearer or PoP token.');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw new UnauthorizedError('AKV10001: The Authorization header is not a Bearer token.');
  return match[1];
}

function challenge(): string {
  const { config } = container();
  return challengeHeader(
    config.ARCA_CHALLENGE_AUTHORITY,
    config.ARCA_TENANT_ID,
    config.ARCA_CHALLENGE_RESOURCE,
  );
}
