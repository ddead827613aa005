import { NestedStack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { secretRoutes } from '#lib/http/routes/secret-routes.ts';
import type { Route } from '#lib/http/routes.ts';

/** An area of the route table (lib/http/routes/): its operations get a nested stack of their own. */
export interface Area {
  /** The nested stack's construct id. */
  readonly id: string;
  readonly description: string;
  readonly routes: readonly Route[];
}

/**
 * The route table's areas, as lib/http/routes.ts concatenates them. A new
 * area of the route table (certificates …) gets a line here; `areasOf`
 * refuses a route table with a route in no area, or in two.
 */
export const AREAS: readonly Area[] = [
  { id: 'SecretOperations', description: 'secrets', routes: secretRoutes },
  { id: 'KeyOperations', description: 'keys', routes: keyRoutes },
  { id: 'AccessOperations', description: 'role assignments and definitions', routes: accessRoutes },
  { id: 'ManagementOperations', description: 'vault management, audit and health', routes: managementRoutes },
];

/**
 * The areas that serve a route table, checked: every route in exactly one
 * area, every handler file in one area only (its function lives in that
 * area's nested stack).
 */
export function areasOf(table: readonly Route[], areas: readonly Area[] = AREAS): Area[] {
  const routeArea = new Map<Route, string>();
  const fileArea = new Map<string, string>();
  for (const area of areas) {
    for (const route of area.routes) {
      const other = routeArea.get(route);
      if (other) throw new Error(`${route.method} ${route.path} is in two areas: ${other} and ${area.id}`);
      routeArea.set(route, area.id);
      const fileOwner = fileArea.get(route.handler);
      if (fileOwner && fileOwner !== area.id) {
        throw new Error(`${route.handler} serves routes of two areas: ${fileOwner} and ${area.id}`);
      }
      fileArea.set(route.handler, area.id);
    }
  }
  for (const route of table) {
    if (!routeArea.has(route)) {
      throw new Error(
        `${route.method} ${route.path} (${route.handler}) is in no area of infra/constructs/operation-area.ts: ` +
          'add its area of lib/http/routes/ to AREAS',
      );
    }
  }
  const served = new Set(table);
  return areas
    .map((area) => ({ ...area, routes: area.routes.filter((r) => served.has(r)) }))
    .filter((area) => area.routes.length > 0);
}

/**
 * One area's operations: the function of each handler file (with its own
 * log group and least-privilege role), the API routes, integrations and
 * Lambda permissions. A nested stack of its own, so that the root stack
 * (the API, the tables, the keys, the audit pipeline, events) stays far from
 * CloudFormation's 500-resource limit as areas are added; the values it
 * takes from the root (table names and ARNs, key ARNs, the API id …)
 * arrive as the nested stack's parameters.
 */
export class OperationArea extends NestedStack {
  readonly area: Area;

  constructor(scope: Construct, area: Area) {
    super(scope, area.id, { description: `Arca operations: ${area.description}` });
    this.area = area;
  }

  /** The handler files of the area, in route-table order. */
  handlerFiles(): string[] {
    return [...new Set(this.area.routes.map((r) => r.handler))];
  }
}
