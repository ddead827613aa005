import type { AuditEntry } from '../audit/audit-log.ts';
import type { SecretVersion } from '../secrets/model.ts';
import type { SecretStore } from './secret-store.ts';

/** A key's stored rotation policy: the JSON the API takes and gives, with its own times. */
export interface StoredRotationPolicy {
  readonly policy: string;
  readonly created: number;
  readonly updated: number;
}

/**
 * Storage port for keys: the versioned-object store (SecretStore's contract,
 * under the `keys` collection: public facts in `facts`, the private part or
 * HSM handle sealed), plus what keys alone have.
 */
export interface KeyStore extends SecretStore {
  /** Every version, deleted or not (a purge destroys HSM material once the items are gone). */
  versionsOf(vault: string, name: string): Promise<SecretVersion[]>;
  getRotationPolicy(vault: string, name: string): Promise<StoredRotationPolicy | undefined>;
  /** Writes the policy of a live key; undefined when there is no live key of that name. */
  putRotationPolicy(
    vault: string,
    name: string,
    policy: string,
    now: number,
    audit?: AuditEntry,
  ): Promise<StoredRotationPolicy | undefined>;
}
