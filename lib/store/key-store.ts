import type { AuditEntry } from '../audit/audit-log.ts';
import { ConflictError } from '../errors.ts';
import type { SecretVersion } from '../secrets/model.ts';
import type { SecretStore } from './secret-store.ts';

/** A key's stored rotation policy: the JSON the API takes and gives, with its own times. */
export interface StoredRotationPolicy {
  readonly policy: string;
  readonly created: number;
  readonly updated: number;
  /** The version the rotation sweep last rotated away from, and when (Unix seconds). */
  readonly rotatedFrom?: string;
  readonly rotatedAt?: number;
}

/** A key that has a rotation policy, as the rotation sweep lists them. */
export interface RotationPolicyRef {
  /** Lower-cased. */
  readonly vault: string;
  /** As the policy was first stored under (the key's name, case-insensitive). */
  readonly name: string;
}

/** The rotation sweep's new version did not land: the key's latest moved, or the key was deleted, meanwhile. */
export class RotationSupersededError extends ConflictError {
  constructor(name: string) {
    super(`Key ${name} changed while it was being rotated; it was not rotated again.`);
  }
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
  /** Every key with a rotation policy (live or not), a page at a time, never a scan. */
  listRotationPolicies(): AsyncIterable<RotationPolicyRef[]>;
  /**
   * Adds a version made by rotating `rotatedFrom` away, and makes it the
   * latest, only while `rotatedFrom` is still the latest version of a live
   * key that has a rotation policy, and marks the policy with it, all in one
   * transaction (with the audit record). RotationSupersededError otherwise:
   * of two sweeps rotating the same version at once, one lands.
   */
  putRotatedVersion(
    vault: string,
    version: SecretVersion,
    rotatedFrom: string,
    audit?: AuditEntry,
  ): Promise<void>;
}
