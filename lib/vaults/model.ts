/** A vault, in the shape of Azure's Microsoft.KeyVault/vaults resource properties. */
export type Sku = 'standard' | 'premium';

export interface PermissionLists {
  readonly keys?: readonly string[];
  readonly secrets?: readonly string[];
  readonly certificates?: readonly string[];
  readonly storage?: readonly string[];
}

export interface AccessPolicy {
  readonly tenantId: string;
  /** A principal's or a group's object id. */
  readonly objectId: string;
  /** Compound identity: the policy applies only through this client application. */
  readonly applicationId?: string;
  readonly permissions: PermissionLists;
}

export interface RoleAssignment {
  /** The assignment's name (a GUID). */
  readonly name: string;
  /** '/' (the vault), or '/secrets/{name}', '/keys/{name}', '/certificates/{name}'. */
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
}

export interface VaultProperties {
  readonly tenantId: string;
  readonly sku: Sku;
  readonly enableRbacAuthorization: boolean;
  readonly accessPolicies: readonly AccessPolicy[];
  readonly softDeleteRetentionInDays: number;
  readonly enablePurgeProtection: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface Vault extends VaultProperties {
  /** Lower-cased; unique per deployment. */
  readonly name: string;
  readonly roleAssignments: readonly RoleAssignment[];
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
  /** Optimistic concurrency: every write bumps it. */
  readonly revision: number;
  readonly deletion?: { readonly deletionDate: number; readonly scheduledPurgeDate: number };
}

export const VAULT_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
export const MAX_ACCESS_POLICIES = 1024;
export const MAX_ROLE_ASSIGNMENTS = 2000;
