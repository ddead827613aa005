import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Principal } from '../auth/token-verifier.ts';
import { BadParameterError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { container } from '../runtime/container.ts';
import { bearerToken, readWithRecord, withBoundary } from './operation-boundary.ts';
import type { OperationResult } from './responses.ts';
import type { Route } from './route.ts';
import { routeFor } from './route-lookup.ts';
import { bodyOf, headerOf, paramsOf, queryOf } from './vault-request.ts';

export type DeploymentRole =
  | 'administrator'
  | 'contributor'
  | 'reader'
  | 'auditReader'
  | 'vaultAdministrator';

/** One management-plane request (the bare domain: vaults, not their contents). */
export interface ManagementRequest {
  readonly operationId: string;
  readonly requestId: string;
  readonly principal: Principal;
  readonly role: DeploymentRole;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  readonly body?: string;
  readonly apiVersion: string;
  /** https://{bare domain}[:port]: vault URIs are https://{vault}.{domain}[:port]/. */
  readonly host: string;
  /** The request's audit record: changes hand `audit.forChange()` to the store. */
  readonly audit: AuditTrail;
}

/** What each deployment role may do: Reader reads, Contributor also writes and deletes, only Administrator purges. */
const ALLOWED: Record<DeploymentRole, readonly string[]> = {
  administrator: ['vaults/read', 'vaults/write', 'vaults/delete', 'vaults/purge', 'audit/read'],
  contributor: ['vaults/read', 'vaults/write', 'vaults/delete'],
  reader: ['vaults/read'],
  auditReader: ['audit/read'],
  // A vault's own Key Vault Administrators may read that vault's audit records.
  vaultAdministrator: ['audit/read'],
};

const KEY_VAULT_ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483';

const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/**
 * The chain of management handlers: the bare domain only, a token of the
 * deployment's tenant, and a deployment role (from configuration) that allows
 * the route's permission. Deny by default.
 */
export function managementOperation(
  /** The handler's area of the route table (lib/http/routes/): its bundle holds no other rows. */
  table: readonly Route[],
  operationId: string,
  run: (request: ManagementRequest) => Promise<OperationResult>,
) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>().handler(
    (event, context) =>
      withBoundary(event, context, async ({ requestId }, _challenge, audit) => {
        const request = await parseRequest(table, operationId, event, requestId, audit);
        const isRead = event.requestContext?.http?.method === 'GET';
        return isRead ? readWithRecord(audit, () => run(request)) : run(request);
      }),
  );
}

async function parseRequest(
  table: readonly Route[],
  operationId: string,
  event: APIGatewayProxyEventV2,
  requestId: string,
  audit: AuditTrail,
): Promise<ManagementRequest> {
  const { config, verifyToken } = container();
  const host = (headerOf(event, 'host') ?? event.requestContext?.domainName ?? '').toLowerCase();
  const hostname = host.replace(/:\d+$/, '');
  const bare =
    hostname === config.ARCA_VAULT_DOMAIN ||
    (config.ARCA_VAULT_DOMAIN === 'localhost' && ['127.0.0.1', '[::1]'].includes(hostname));
  const params = paramsOf(event);
  if (params.vault) audit.forVault(params.vault, `https://${params.vault.toLowerCase()}.${host}`);
  const principal = await verifyToken(bearerToken(headerOf(event, 'authorization')));
  audit.byPrincipal(principal);
  const route = routeFor(table, event.routeKey, operationId);
  audit.forOperation(route.auditOperation, queryOf(event).get('api-version') ?? '');
  if (!bare)
    throw new NotFoundError('NotFound', 'Vaults are managed on the bare domain, not on a vault host.');
  if ((principal.tenantId ?? config.ARCA_TENANT_ID).toLowerCase() !== config.ARCA_TENANT_ID.toLowerCase()) {
    throw new UnauthorizedError("AKV10032: Invalid issuer: the token's tenant is not this deployment's.");
  }
  const query = queryOf(event);
  const apiVersion = query.get('api-version');
  if (!apiVersion || !API_VERSION.test(apiVersion)) {
    throw new BadParameterError(
      "The 'api-version' query parameter is missing or not a date (such as 2024-11-01).",
    );
  }
  audit.forOperation(route.auditOperation, apiVersion);
  let role = deploymentRole(principal);
  if (route.permission === 'audit/read' && !(role && ALLOWED[role].includes(route.permission))) {
    role = (await vaultAdministrator(principal, params.vault)) ?? role;
  }
  if (!role || !ALLOWED[role].includes(route.permission)) {
    throw new ForbiddenError(
      `The caller 'appid=${principal.appId ?? '-'};oid=${principal.objectId}' has no deployment role that allows ` +
        `${route.permission} (operation ${operationId}).`,
      'AccessDenied',
    );
  }
  audit.grantedBy({ via: 'deploymentRole', id: role });
  return {
    operationId,
    requestId,
    principal,
    role,
    params,
    query,
    ...(event.body != null && { body: bodyOf(event) }),
    apiVersion,
    host,
    audit,
  };
}

/** Holds the Key Vault Administrator role at the vault's scope (RBAC vaults). */
async function vaultAdministrator(principal: Principal, vaultName: string | undefined) {
  const vault = vaultName ? await container().vaults.get(vaultName) : undefined;
  const ids = [principal.objectId, ...(principal.groups ?? [])].map((id) => id.toLowerCase());
  const holds =
    vault?.enableRbacAuthorization &&
    vault.roleAssignments.some(
      (a) =>
        a.scope === '/' &&
        a.roleDefinitionId === KEY_VAULT_ADMINISTRATOR &&
        ids.includes(a.principalId.toLowerCase()),
    );
  return holds ? ('vaultAdministrator' as const) : undefined;
}

function deploymentRole(principal: Principal): DeploymentRole | undefined {
  const { config } = container();
  const ids = [principal.objectId, ...(principal.groups ?? [])].map((id) => id.toLowerCase());
  const holds = (list: readonly string[]) => ids.some((id) => list.includes(id));
  if (holds(config.ARCA_ADMINISTRATORS)) return 'administrator';
  if (holds(config.ARCA_CONTRIBUTORS)) return 'contributor';
  if (holds(config.ARCA_READERS)) return 'reader';
  if (holds(config.ARCA_AUDIT_READERS)) return 'auditReader';
  return undefined;
}
