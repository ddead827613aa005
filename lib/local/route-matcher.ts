import type { Route } from '../http/routes.ts';

export interface RouteMatch {
  readonly route: Route;
  /** Raw (still percent-encoded) path segments, as API Gateway passes them. */
  readonly params: Record<string, string>;
}

/**
 * Matches a request path against the route table the way API Gateway does:
 * a literal segment beats a parameter. A trailing empty segment fills the
 * last parameter with '' (the SDKs' `GET /secrets/{name}/` means "latest"),
 * and so does an empty {version} inside a path (a CryptographyClient made from
 * a key name calls `/keys/{name}//sign`: the latest version).
 */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): RouteMatch | 'method-not-allowed' | undefined {
  const segments = path.split('/').slice(1);
  let best: { match: RouteMatch; literals: number } | undefined;
  let pathKnown = false;
  for (const route of routes) {
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const fits = pattern.every((part, i) => {
      const segment = segments[i] as string;
      if (part.startsWith('{') && part.endsWith('}')) {
        params[part.slice(1, -1)] = segment;
        return segment !== '' || i === pattern.length - 1 || part === '{version}';
      }
      literals++;
      return part.toLowerCase() === segment.toLowerCase();
    });
    if (!fits) continue;
    pathKnown = true;
    if (route.method !== method) continue;
    if (!best || literals > best.literals) best = { match: { route, params }, literals };
  }
  if (best) return best.match;
  return pathKnown ? 'method-not-allowed' : undefined;
}
