/**
 * What a route of the route table says (lib/http/routes.ts assembles the
 * table from the areas in lib/http/routes/). Paths use API Gateway's
 * `{param}` syntax, relative to the vault's host.
 */
export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Route {
  /** The specification's operationId. */
  readonly operationId: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** Entry file of the Lambda handler, relative to the repository root. */
  readonly handler: string;
  /** data: on a vault's host; management: on the bare domain (vaults, deployment roles). */
  readonly plane: 'data' | 'management';
  /**
   * What the caller needs. Data plane: the access-policy permission ('secrets/get').
   * Management plane: the deployment action ('vaults/write').
   */
  readonly permission: string;
  /** Data plane: the RBAC data action (or, for role assignment management, the action) it needs. */
  readonly dataAction?: string;
  /** Object-scoped routes: the collection whose `{name}` names the object a role may be scoped to. */
  readonly objectScope?: 'secrets' | 'keys' | 'certificates';
  /**
   * List routes: a caller whose roles are scoped to some objects of this
   * collection only may list, and sees those objects only.
   */
  readonly listScope?: 'secrets' | 'keys' | 'certificates';
  /** operationName in the audit record (Azure's AuditEvent names). */
  readonly auditOperation: string;
  readonly summary: string;
}

/** Azure's prefix of Key Vault data actions. */
export const KV = 'Microsoft.KeyVault/vaults';

/**
 * The row builder of an object collection's routes (secrets, keys): the
 * access-policy permission `{collection}/{permission}`, the RBAC data action
 * `${KV}/{actions[action]}` (action defaults to the permission), object scope
 * for paths naming an object, list scope for its collection-wide lists.
 */
export const collectionRoutes =
  (collection: 'secrets' | 'keys', actions: Readonly<Record<string, string>>) =>
  (
    operationId: string,
    method: HttpMethod,
    path: string,
    file: string,
    permission: string,
    auditOperation: string,
    summary: string,
    action: string = permission,
  ): Route => ({
    operationId,
    method,
    path,
    handler: `functions/${collection}/${file}.ts`,
    plane: 'data',
    permission: `${collection}/${permission}`,
    dataAction: `${KV}/${actions[action]}`,
    ...(path.includes('{name}') && { objectScope: collection }),
    ...(action === 'list' && !path.includes('{name}') && { listScope: collection }),
    auditOperation,
    summary,
  });
