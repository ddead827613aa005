import type { ManagementRequest } from '../http/management-operation.ts';

/** nextLink on the management plane: absolute, with the request's own query and the next page's token. */
export function managementNextLink(
  request: ManagementRequest,
  path: string,
  token: string | undefined,
): string | null {
  if (!token) return null;
  const query = new URLSearchParams(request.query);
  query.set('$skiptoken', token);
  return `https://${request.host}${path}?${query.toString().replaceAll('%24', '$')}`;
}
