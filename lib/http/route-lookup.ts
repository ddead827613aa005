import { type Route, routes } from './routes.ts';

/**
 * The route table entry a request came in by: API Gateway and the local
 * gateway both name it in routeKey ("GET /secrets/{name}"); the operation id
 * is the fallback for direct invocations.
 */
export function routeFor(routeKey: string | undefined, operationId: string): Route {
  const route =
    routes.find((r) => `${r.method} ${r.path}` === routeKey) ??
    routes.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`no route in the route table for ${operationId}`);
  return route;
}
