import { auditQueryFrom } from '#lib/audit/audit-query.ts';
import { ServiceUnavailableError } from '#lib/errors.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { container } from '#lib/runtime/container.ts';
import { managementNextLink } from '#lib/vaults/management-paging.ts';

export const handler = managementOperation('AuditEvents_List', async (request) => {
  const { auditLog } = container();
  if (!auditLog) throw new ServiceUnavailableError('Audit is off in this deployment.');
  const page = await auditLog.query(auditQueryFrom(request.params.vault ?? '', request.query));
  return ok({
    value: page.items,
    nextLink: managementNextLink(request, `/vaults/${request.params.vault}/auditEvents`, page.nextToken),
  });
});
