import type { Deletion, SecretSummary, SecretVersionMeta } from '../secrets/model.ts';
import { bundleAttributes, type VaultView } from '../secrets/secret-bundles.ts';
import { decodeFacts } from './key-facts.ts';

/**
 * The keys API's response shapes (KeyBundle, KeyItem, DeletedKeyBundle,
 * DeletedKeyItem). The JWK holds public members only: there is no code path
 * that could put d, p, q, dp, dq, qi or k in it.
 */

const attributes = (vault: VaultView, meta: SecretVersionMeta) => ({
  ...bundleAttributes(vault, meta),
  exportable: false,
});

const kidOf = (vault: VaultView, meta: SecretVersionMeta, withVersion = true) =>
  `${vault.url}/keys/${meta.name}${withVersion ? `/${meta.version}` : ''}`;

/** The public JWK of a version, as JsonWebKey. */
export function publicJwk(vault: VaultView, meta: SecretVersionMeta) {
  const f = decodeFacts(meta.facts);
  return {
    kid: kidOf(vault, meta),
    kty: f.kty,
    key_ops: [...f.keyOps],
    ...(f.n !== undefined && { n: f.n }),
    ...(f.e !== undefined && { e: f.e }),
    ...(f.crv !== undefined && { crv: f.crv }),
    ...(f.x !== undefined && { x: f.x }),
    ...(f.y !== undefined && { y: f.y }),
  };
}

const tagsAndManaged = (meta: SecretVersionMeta) => ({
  ...(meta.tags !== undefined && { tags: meta.tags }),
  ...(meta.managed !== undefined && { managed: meta.managed }),
});

export function keyBundle(vault: VaultView, meta: SecretVersionMeta) {
  return { key: publicJwk(vault, meta), attributes: attributes(vault, meta), ...tagsAndManaged(meta) };
}

function deletionFields(vault: VaultView, name: string, deletion: Deletion | undefined) {
  return {
    recoveryId: `${vault.url}/deletedkeys/${name}`,
    deletedDate: deletion?.deletedDate,
    scheduledPurgeDate: deletion?.scheduledPurgeDate,
  };
}

export function deletedKeyBundle(vault: VaultView, meta: SecretVersionMeta, deletion: Deletion | undefined) {
  return { ...deletionFields(vault, meta.name, deletion), ...keyBundle(vault, meta) };
}

/** KeyItem in GetKeys (the kid names the key) and GetKeyVersions (the kid names the version). */
export function keyItem(vault: VaultView, summary: SecretSummary, withVersion: boolean) {
  return {
    kid: kidOf(vault, summary, withVersion),
    attributes: attributes(vault, summary),
    ...tagsAndManaged(summary),
  };
}

export function deletedKeyItem(vault: VaultView, summary: SecretSummary) {
  return { ...deletionFields(vault, summary.name, summary.deletion), ...keyItem(vault, summary, false) };
}
