import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { authorize, objectScopeOf, scopedListGrant, visibleObjects } from '../authz/authorize.ts';
import { NotFoundError, UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { requireApiVersion } from './api-version.ts';
import {
  bearerToken,
  type ChallengeState,
  type RequestIds,
  readWithRecord,
  withBoundary,
} from './operation-boundary.ts';
import type { OperationResult } from './responses.ts';
import type { Route } from './route.ts';
import { routeFor } from './route-lookup.ts';
import { resolveVaultHost } from './vault-host.ts';
import { bodyOf, headerOf, paramsOf, queryOf, type VaultRequest } from './vault-request.ts';

type Event = APIGatewayProxyEventV2;

/**
 * POSTs that change nothing, only compute or disclose: like GETs, their record
 * is written while they run (and awaited before the answer leaves).
 */
const READS_BY_POST: ReadonlySet<string> = new Set([
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'wrapKey',
  'unwrapKey',
  'GetRandomBytes',
  'BackupKey',
  'BackupSecret',
]);

/**
 * The chain every data-plane handler shares: resolve the vault from the host,
 * authenticate before anything else (the SDKs' first request is an
 * unauthenticated probe with no body, answered with the challenge naming the
 * vault's tenant), check the api-version, run the one authorization check of
 * the route table, then the operation. A read's audit record is written while
 * it runs; a change's record commits with the change (the store's transaction).
 */
export function vaultOperation(
  /** The handler's area of the route table (lib/http/routes/): its bundle holds no other rows. */
  table: readonly Route[],
  operationId: string,
  run: (request: VaultRequest) => Promise<OperationResult>,
) {
  return middy<Event, APIGatewayProxyStructuredResultV2, Error, Context>().handler((event, context) =>
    withBoundary(event, context, async (ids, challenge, audit) => {
      const request = await parseRequest(table, operationId, event, ids, challenge, audit);
      const isRead = event.requestContext?.http?.method === 'GET' || READS_BY_POST.has(operationId);
      return isRead ? readWithRecord(audit, () => run(request)) : run(request);
    }),
  );
}

async function parseRequest(
  table: readonly Route[],
  operationId: string,
  event: Event,
  ids: RequestIds,
  challenge: ChallengeState,
  audit: AuditTrail,
): Promise<VaultRequest> {
  const { config, verifyToken, vaults } = container();
  const address = resolveVaultHost(
    headerOf(event, 'host') ?? event.requestContext?.domainName,
    config.ARCA_VAULT_DOMAIN,
    config.ARCA_DEFAULT_VAULT,
  );
  audit.forVault(address.name, address.url);
  const vault = await vaults.get(address.name);
  const live = vault && !vault.deletion ? vault : undefined;
  if (live) challenge.tenantId = live.tenantId;
  const principal = await verifyToken(bearerToken(headerOf(event, 'authorization')));
  audit.byPrincipal(principal);
  const route = routeFor(table, event.routeKey, operationId);
  audit.forOperation(route.auditOperation, queryOf(event).get('api-version') ?? '');
  if (!live)
    throw new NotFoundError('VaultNotFound', `Vault ${address.name} was not found in this deployment.`);
  if ((principal.tenantId ?? config.ARCA_TENANT_ID).toLowerCase() !== live.tenantId.toLowerCase()) {
    throw new UnauthorizedError(
      `AKV10032: Invalid issuer: the token's tenant is not vault ${live.name}'s tenant.`,
    );
  }
  const query = queryOf(event);
  const apiVersion = requireApiVersion(query.get('api-version'));
  audit.forOperation(route.auditOperation, apiVersion);
  const params = paramsOf(event);
  if (route.objectScope && params.name) {
    const version = params.version ? `/${params.version}` : '';
    audit.aboutObject(`${address.url}/${route.objectScope}/${params.name}${version}`);
  }
  const objectScope = objectScopeOf(route, params);
  const visible = route.listScope ? visibleObjects(live, principal, route, route.listScope) : 'all';
  const grant =
    visible === 'all' ? authorize(live, principal, route, objectScope) : scopedListGrant(live, principal);
  audit.grantedBy(grant);
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
    audit,
    visible,
    ...(objectScope && { objectScope }),
    ...(event.requestContext?.http?.sourceIp && { sourceIp: event.requestContext.http.sourceIp }),
  };
}
