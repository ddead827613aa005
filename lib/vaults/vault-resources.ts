import type { AccessPolicy, Vault } from './model.ts';

/** Where a vault answers: https://{vault}.{domain}[:port]/ (DESIGN.md #2). */
export function vaultUri(managementHost: string, name: string): string {
  return `https://${name}.${managementHost}/`;
}

export const vaultResourceId = (name: string) => `/providers/Microsoft.KeyVault/vaults/${name}`;

function policy(p: AccessPolicy) {
  return {
    tenantId: p.tenantId,
    objectId: p.objectId,
    ...(p.applicationId && { applicationId: p.applicationId }),
    permissions: {
      keys: p.permissions.keys ?? [],
      secrets: p.permissions.secrets ?? [],
      certificates: p.permissions.certificates ?? [],
      storage: p.permissions.storage ?? [],
    },
  };
}

/** The Microsoft.KeyVault/vaults resource. */
export function vaultResource(vault: Vault, managementHost: string) {
  return {
    id: vaultResourceId(vault.name),
    name: vault.name,
    type: 'Microsoft.KeyVault/vaults',
    location: 'arca',
    tags: vault.tags ?? {},
    properties: {
      tenantId: vault.tenantId,
      sku: { family: 'A', name: vault.sku },
      accessPolicies: vault.accessPolicies.map(policy),
      enableRbacAuthorization: vault.enableRbacAuthorization,
      enableSoftDelete: true,
      softDeleteRetentionInDays: vault.softDeleteRetentionInDays,
      enablePurgeProtection: vault.enablePurgeProtection,
      vaultUri: vaultUri(managementHost, vault.name),
      provisioningState: 'Succeeded',
    },
  };
}

/** The Microsoft.KeyVault/deletedVaults resource. */
export function deletedVaultResource(vault: Vault) {
  return {
    id: `/providers/Microsoft.KeyVault/locations/arca/deletedVaults/${vault.name}`,
    name: vault.name,
    type: 'Microsoft.KeyVault/deletedVaults',
    properties: {
      vaultId: vaultResourceId(vault.name),
      location: 'arca',
      deletionDate: iso(vault.deletion?.deletionDate),
      scheduledPurgeDate: iso(vault.deletion?.scheduledPurgeDate),
      tags: vault.tags ?? {},
      purgeProtectionEnabled: vault.enablePurgeProtection,
    },
  };
}

/** The Microsoft.KeyVault/vaults/accessPolicies resource an access policy update returns. */
export function accessPoliciesResource(vault: Vault, operationKind: string) {
  return {
    id: `${vaultResourceId(vault.name)}/accessPolicies/${operationKind}`,
    name: operationKind,
    type: 'Microsoft.KeyVault/vaults/accessPolicies',
    location: 'arca',
    properties: { accessPolicies: vault.accessPolicies.map(policy) },
  };
}

const iso = (seconds: number | undefined) =>
  seconds === undefined ? null : new Date(seconds * 1000).toISOString();
