import type { ManagementRequest } from '../http/management-operation.ts';

/** nextLink on the management plane: absolute, same api-version and page size. */
export function managementNextLink(
  request: ManagementRequest,
  path: string,
  token: string | undefined,
): string | null {
  if (!token) return null;
  const query = new URLSearchParams({ 'api-version': request.apiVersion, $skiptoken: token });
  const top = request.query.get('$top');
  if (top) query.set('$top', top);
  return `https://${request.host}${path}?${query.toString().replace('%24skiptoken', '$skiptoken').replace('%24top', '$top')}`;
}
