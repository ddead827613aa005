import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Route, routes as routeTable } from '../http/routes.ts';
import { MAX_BODY_BYTES } from '../http/vault-request.ts';
import { lambdaContext, toApiGatewayEvent } from './api-gateway-event.ts';
import { matchRoute } from './route-matcher.ts';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Answers a request that is not for the vault (the local OIDC issuer); undefined passes it on. */
export type SideHandler = (request: {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}) => Promise<{ status: number; headers: Record<string, string>; body: string } | undefined>;

const repoRoot = join(import.meta.dirname, '..', '..');

/** Imports every handler module the route table names: the very files Lambda runs. */
export async function loadHandlers(
  routes: readonly Route[] = routeTable,
): Promise<Map<string, LambdaHandler>> {
  const handlers = new Map<string, LambdaHandler>();
  for (const file of new Set(routes.map((r) => r.handler))) {
    const module = (await import(pathToFileURL(join(repoRoot, file)).href)) as { handler?: LambdaHandler };
    if (typeof module.handler !== 'function') throw new Error(`${file} exports no handler`);
    handlers.set(file, module.handler);
  }
  return handlers;
}

/**
 * The local stand-in for API Gateway: matches the route table, builds the
 * payload 2.0 event, calls the handler and writes its result back.
 */
export function createGateway(handlers: Map<string, LambdaHandler>, side?: SideHandler, routes = routeTable) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req);
      if (body === undefined)
        return send(res, 413, jsonError('RequestEntityTooLarge', 'The request body is too large.'));
      const path = new URL(req.url ?? '/', 'https://local').pathname;
      const sideAnswer = await side?.({
        method: req.method ?? 'GET',
        path,
        headers: req.headers as never,
        body,
      });
      if (sideAnswer) return send(res, sideAnswer.status, sideAnswer.body, sideAnswer.headers);
      const match = matchRoute(routes, req.method ?? 'GET', path);
      if (match === undefined)
        return send(res, 404, jsonError('NotFound', `No operation answers ${path.slice(0, 200)}.`));
      if (match === 'method-not-allowed') {
        return send(
          res,
          405,
          jsonError('MethodNotAllowed', `${req.method} is not allowed on ${path.slice(0, 200)}.`),
        );
      }
      const event = toApiGatewayEvent(req, body, match);
      const handler = handlers.get(match.route.handler) as LambdaHandler;
      const functionName = match.route.handler.replace(/^functions\//, '').replace(/\.ts$/, '');
      const result = await handler(event, lambdaContext(functionName, event.requestContext.requestId));
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      send(res, result.statusCode ?? 200, result.body ?? '', headers);
    } catch {
      // Handlers answer their own errors; reaching here is a gateway fault. Say nothing more.
      send(res, 502, jsonError('BadGateway', 'The local gateway could not complete the request.'));
    }
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES + 1024) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function jsonError(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  res.writeHead(status, {
    ...(!hasType && body && { 'content-type': 'application/json; charset=utf-8' }),
    ...headers,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
