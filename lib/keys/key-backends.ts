import type { KeyFacts } from './key-facts.ts';
import type { KeyOperations, KeyType } from './key-operations.ts';

/** What CreateKey (and rotate) asks a backend for. */
export interface NewKeySpec {
  readonly kty: KeyType;
  readonly keySize?: number;
  readonly publicExponent?: number;
  readonly crv?: string;
  readonly keyOps: readonly string[];
}

export interface KeyIds {
  readonly vault: string;
  readonly name: string;
  readonly version: string;
}

/**
 * A new key version: its public facts, and the part the barrier seals (a
 * software key's PKCS#8 DER; an HSM key's handle, never its material).
 */
export interface MadeKey {
  readonly facts: KeyFacts;
  readonly privatePart: Buffer;
}

/** Where keys of one protection live: made, used and destroyed there. */
export interface KeyBackend {
  create(spec: NewKeySpec, ids: KeyIds): Promise<MadeKey>;
  /**
   * ImportKey into the HSM: the private key of a JWK (kty RSA-HSM, EC-HSM or
   * oct-HSM, with its private members) made a key of this backend, with
   * these key_ops. A backend without it takes no imported material.
   */
  importKey?(
    jwk: Readonly<Record<string, unknown>>,
    keyOps: readonly string[],
    ids: KeyIds,
  ): Promise<MadeKey>;
  /** The operations of a stored version (privatePart as the barrier unsealed it). */
  open(facts: KeyFacts, privatePart: Buffer): Promise<KeyOperations>;
  /**
   * BackupKey of a version: what the backup carries instead of its private
   * part, never material in the clear (an HSM key's, wrapped by the HSM under
   * a key that never leaves it). Absent: the private part as stored.
   */
  exportForBackup?(facts: KeyFacts, privatePart: Buffer): Promise<Buffer>;
  /** RestoreKey: the private part of a backed-up version, made again where it lives (a new handle). */
  importFromBackup?(facts: KeyFacts, exported: Buffer): Promise<Buffer>;
  /** Destroys an HSM key's material at purge; nothing to do for software keys. */
  destroy(facts: KeyFacts, privatePart: Buffer): Promise<void>;
}

/** The software backend always; the HSM one where the deployment has an HSM. */
export interface KeyBackends {
  readonly software: KeyBackend;
  /** Throws a BadParameterError saying how to enable HSM keys when there is none. */
  hsm(): Promise<KeyBackend>;
  /** Which HSM serves HSM keys, for messages and the health route. */
  readonly hsmKind: 'pkcs11' | 'kms' | 'off';
}
