/**
 * The one route table. API Gateway routes (infra/), the local gateway
 * (lib/local/gateway.ts), the authorizer's permission check and the README's
 * operation table are all generated from this list, so they cannot drift
 * apart. Its rows live by area in lib/http/routes/, so that a handler's bundle
 * holds its own area's rows only (lib/http/vault-operation.ts takes them).
 */
import type { Route } from './route.ts';
import { accessRoutes } from './routes/access-routes.ts';
import { keyRoutes } from './routes/key-routes.ts';
import { managementRoutes } from './routes/management-routes.ts';
import { secretRoutes } from './routes/secret-routes.ts';

export type { HttpMethod, Route } from './route.ts';

export const routes: readonly Route[] = [...secretRoutes, ...keyRoutes, ...accessRoutes, ...managementRoutes];

/** One Lambda function per handler file (some serve several routes). */
export function handlerFiles(): string[] {
  return [...new Set(routes.map((r) => r.handler))];
}
