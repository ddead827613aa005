import type { HttpMethod, Route } from '../route.ts';

const vaults = (
  operationId: string,
  method: HttpMethod,
  path: string,
  file: string,
  permission: string,
  auditOperation: string,
  summary: string,
): Route => ({
  operationId,
  method,
  path,
  handler: `functions/vaults/${file}.ts`,
  plane: 'management',
  permission: `vaults/${permission}`,
  auditOperation,
  summary,
});

/** The management plane: vaults, audit queries, HSM health (one part of the route table: lib/http/routes.ts). */
// biome-ignore format: one route a line reads as a table
export const managementRoutes: readonly Route[] = [
  vaults('Vaults_CreateOrUpdate', 'PUT', '/vaults/{vault}', 'create-or-update-vault', 'write', 'VaultPut', 'Create a vault, or replace its properties.'),
  vaults('Vaults_Update', 'PATCH', '/vaults/{vault}', 'update-vault', 'write', 'VaultPatch', 'Update some properties of a vault.'),
  vaults('Vaults_Get', 'GET', '/vaults/{vault}', 'get-vault', 'read', 'VaultGet', 'Get a vault.'),
  vaults('Vaults_List', 'GET', '/vaults', 'list-vaults', 'read', 'VaultList', 'List vaults.'),
  vaults('Vaults_Delete', 'DELETE', '/vaults/{vault}', 'delete-vault', 'delete', 'VaultDelete', 'Soft-delete a vault.'),
  vaults('Vaults_UpdateAccessPolicy', 'PUT', '/vaults/{vault}/accessPolicies/{operationKind}', 'update-access-policy', 'write', 'VaultAccessPolicyUpdate', 'Add, replace or remove access policies (operationKind add | replace | remove).'),
  vaults('Vaults_ListDeleted', 'GET', '/deletedVaults', 'list-deleted-vaults', 'read', 'VaultListDeleted', 'List soft-deleted vaults.'),
  vaults('Vaults_GetDeleted', 'GET', '/deletedVaults/{vault}', 'get-deleted-vault', 'read', 'VaultGetDeleted', 'Get a soft-deleted vault.'),
  vaults('Vaults_Recover', 'POST', '/deletedVaults/{vault}/recover', 'recover-deleted-vault', 'write', 'VaultRecover', 'Recover a soft-deleted vault.'),
  { ...vaults('AuditEvents_List', 'GET', '/vaults/{vault}/auditEvents', 'list-audit-events', 'read', 'AuditEventList', "Query a vault's audit records by time, operation, caller and result."), permission: 'audit/read', handler: 'functions/audit/list-audit-events.ts' },
  { ...vaults('HsmHealth_Get', 'GET', '/health/hsm', 'get-hsm-health', 'read', 'HsmHealthGet', "The HSM's health: the CloudHSM cluster's state, or the PKCS#11 token's."), handler: 'functions/health/get-hsm-health.ts' },
  vaults('Vaults_PurgeDeleted', 'POST', '/deletedVaults/{vault}/purge', 'purge-deleted-vault', 'purge', 'VaultPurge', 'Purge a soft-deleted vault and everything in it.'),
];
