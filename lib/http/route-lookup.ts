import type { Route } from './route.ts';

/**
 * The route a request came in by, among its area's rows (lib/http/routes/):
 * API Gateway and the local gateway both name it in routeKey
 * ("GET /secrets/{name}"); the operation id is the fallback for direct
 * invocations.
 */
export function routeFor(table: readonly Route[], routeKey: string | undefined, operationId: string): Route {
  const route =
    table.find((r) => `${r.method} ${r.path}` === routeKey) ??
    table.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`no route in the route table for ${operationId}`);
  return route;
}
