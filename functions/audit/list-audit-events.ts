import { auditQueryFrom } from '#lib/audit/audit-query.ts';
import { ServiceUnavailableError } from '#lib/errors.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import { container } from '#lib/runtime/container.ts';
import { DynamoAuditQuery } from '#lib/store/dynamo-audit-query.ts';
import { managementNextLink } from '#lib/vaults/management-paging.ts';

let auditQuery: DynamoAuditQuery | undefined;

export const handler = managementOperation(managementRoutes, 'AuditEvents_List', async (request) => {
  const { config, dynamo } = container();
  if (config.ARCA_AUDIT === 'off') throw new ServiceUnavailableError('Audit is off in this deployment.');
  auditQuery ??= new DynamoAuditQuery(dynamo, {
    name: config.ARCA_AUDIT_TABLE_NAME,
    hotDays: config.ARCA_AUDIT_HOT_DAYS,
  });
  const page = await auditQuery.query(auditQueryFrom(request.params.vault ?? '', request.query));
  return ok({
    value: page.items,
    nextLink: managementNextLink(request, `/vaults/${request.params.vault}/auditEvents`, page.nextToken),
  });
});
