/**
 * The 401 challenge the Azure SDKs parse (shared/specs/azure-keyvault/README.md):
 * `authorization` is the authority URL with the tenant as its path, `resource`
 * the token audience, whose host must be a parent domain of the vault host.
 * Values must not contain spaces (the SDK splits on them).
 */
export function challengeHeader(authority: string, tenantId: string, resource: string): string {
  return `Bearer authorization="${authority.replace(/\/+$/, '')}/${tenantId}", resource="${resource}"`;
}
