import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { authorize, objectScopeOf, scopedListGrant, visibleObjects } from '../authz/authorize.ts';
import { NotFoundError, UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { requireApiVersion } from './api-version.ts';
import { bearerToken, type ChallengeState, withBoundary } from './operation-boundary.ts';
import type { OperationResult } from './responses.ts';
import { routeFor } from './route-lookup.ts';
import { resolveVaultHost } from './vault-host.ts';
import { bodyOf, headerOf, paramsOf, queryOf, type VaultRequest } from './vault-request.ts';

type Event = APIGatewayProxyEventV2;

/**
 * The chain every data-plane handler shares: resolve the vault from the host,
 * authenticate before anything else (the SDKs' first request is an
 * unauthenticated probe with no body, answered with the challenge naming the
 * vault's tenant), check the api-version, run the one authorization check of
 * the route table, then the operation.
 */
export function vaultOperation(
  operationId: string,
  run: (request: VaultRequest) => Promise<OperationResult>,
) {
  return middy<Event, APIGatewayProxyStructuredResultV2, Error, Context>().handler((event, context) =>
    withBoundary(event, context, async (ids, challenge) =>
      run(await parseRequest(operationId, event, ids, challenge)),
    ),
  );
}

async function parseRequest(
  operationId: string,
  event: Event,
  ids: { requestId: string; clientRequestId?: string },
  challenge: ChallengeState,
): Promise<VaultRequest> {
  const { config, verifyToken, vaults } = container();
  const address = resolveVaultHost(
    headerOf(event, 'host') ?? event.requestContext?.domainName,
    config.ARCA_VAULT_DOMAIN,
    config.ARCA_DEFAULT_VAULT,
  );
  const vault = await vaults.get(address.name);
  const live = vault && !vault.deletion ? vault : undefined;
  if (live) challenge.tenantId = live.tenantId;
  const principal = await verifyToken(bearerToken(headerOf(event, 'authorization')));
  if (!live)
    throw new NotFoundError('VaultNotFound', `Vault ${address.name} was not found in this deployment.`);
  if ((principal.tenantId ?? config.ARCA_TENANT_ID).toLowerCase() !== live.tenantId.toLowerCase()) {
    throw new UnauthorizedError(
      `AKV10032: Invalid issuer: the token's tenant is not vault ${live.name}'s tenant.`,
    );
  }
  const query = queryOf(event);
  const apiVersion = requireApiVersion(query.get('api-version'));
  const route = routeFor(event.routeKey, operationId);
  const params = paramsOf(event);
  const objectScope = objectScopeOf(route, params);
  const visible = route.listScope ? visibleObjects(live, principal, route, route.listScope) : 'all';
  const grant =
    visible === 'all' ? authorize(live, principal, route, objectScope) : scopedListGrant(live, principal);
  return {
    operationId,
    ...ids,
    vault: {
      ...address,
      retentionDays: live.softDeleteRetentionInDays,
      purgeProtection: live.enablePurgeProtection,
      record: live,
    },
    apiVersion,
    params,
    query,
    ...(event.body != null && { body: bodyOf(event) }),
    principal,
    grant,
    visible,
    ...(objectScope && { objectScope }),
    ...(event.requestContext?.http?.sourceIp && { sourceIp: event.requestContext.http.sourceIp }),
  };
}
