import type { SecretHead, SecretSummary, SecretVersionMeta } from './model.ts';

/** What a response needs to know about the vault it came from. */
export interface VaultView {
  /** https://{host}, no trailing slash. */
  readonly url: string;
  readonly retentionDays: number;
  readonly purgeProtection: boolean;
}

/** Key Vault's DeletionRecoveryLevel: 90 days is the uncustomized level; purge protection drops "+Purgeable". */
export function recoveryLevel(retentionDays: number, purgeProtection: boolean): string {
  const level = retentionDays === 90 ? 'Recoverable' : 'CustomizedRecoverable';
  return purgeProtection ? level : `${level}+Purgeable`;
}

/** The attributes of a version as bundles show them (secrets, keys). */
export function bundleAttributes(vault: VaultView, meta: SecretVersionMeta) {
  const a = meta.attributes;
  return {
    enabled: a.enabled,
    ...(a.nbf !== undefined && { nbf: a.nbf }),
    ...(a.exp !== undefined && { exp: a.exp }),
    created: a.created,
    updated: a.updated,
    recoveryLevel: recoveryLevel(vault.retentionDays, vault.purgeProtection),
    recoverableDays: vault.retentionDays,
  };
}

function common(vault: VaultView, meta: SecretVersionMeta, withVersion: boolean) {
  return {
    id: `${vault.url}/secrets/${meta.name}${withVersion ? `/${meta.version}` : ''}`,
    attributes: bundleAttributes(vault, meta),
    ...(meta.contentType !== undefined && { contentType: meta.contentType }),
    ...(meta.tags !== undefined && { tags: meta.tags }),
    ...(meta.managed !== undefined && { managed: meta.managed }),
    ...(meta.kid !== undefined && { kid: meta.kid }),
  };
}

/** SecretBundle; the value only where the operation discloses it (get, set). */
export function secretBundle(vault: VaultView, meta: SecretVersionMeta, value?: string) {
  return { ...(value !== undefined && { value }), ...common(vault, meta, true) };
}

function deletionFields(vault: VaultView, name: string, head: { deletion?: SecretHead['deletion'] }) {
  return {
    recoveryId: `${vault.url}/deletedsecrets/${name}`,
    deletedDate: head.deletion?.deletedDate,
    scheduledPurgeDate: head.deletion?.scheduledPurgeDate,
  };
}

/** DeletedSecretBundle: never a value. */
export function deletedSecretBundle(vault: VaultView, head: SecretHead) {
  const { sealed: _sealed, ...meta } = head.latest;
  return { ...deletionFields(vault, meta.name, head), ...common(vault, meta, true) };
}

/** SecretItem in GetSecrets: the id names the secret, not a version. */
export function secretItem(vault: VaultView, summary: SecretSummary) {
  return common(vault, summary, false);
}

/** SecretItem in GetSecretVersions: the id names the version. */
export function secretVersionItem(vault: VaultView, summary: SecretSummary) {
  return common(vault, summary, true);
}

export function deletedSecretItem(vault: VaultView, summary: SecretSummary) {
  return { ...deletionFields(vault, summary.name, summary), ...common(vault, summary, false) };
}
