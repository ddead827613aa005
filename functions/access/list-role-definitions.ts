import { ok } from '#lib/http/responses.ts';
import { accessRoutes } from '#lib/http/routes/access-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { roleDefinitionList } from '#lib/vaults/role-resources.ts';

export const handler = vaultOperation(accessRoutes, 'RoleDefinitions_List', async () =>
  ok(roleDefinitionList()),
);
