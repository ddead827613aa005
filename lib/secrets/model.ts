import type { SealedValue } from '../crypto/barrier.ts';

/** Unix seconds, as Key Vault sends them. */
export type UnixTime = number;

export interface SecretAttributes {
  readonly enabled: boolean;
  readonly nbf?: UnixTime;
  readonly exp?: UnixTime;
  readonly created: UnixTime;
  readonly updated: UnixTime;
}

/** Everything about one version except its value. */
export interface SecretVersionMeta {
  /** The name as first created (Key Vault names are case-insensitive). */
  readonly name: string;
  readonly version: string;
  readonly attributes: SecretAttributes;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Set on secrets that back a certificate. */
  readonly managed?: boolean;
  readonly kid?: string;
  /**
   * Keys only: the version's public facts (kty, key_ops, public JWK, where the
   * key lives) as JSON, never private material. Opaque to the store.
   */
  readonly facts?: string;
}

/** A stored version: the store only ever sees the sealed value. */
export interface SecretVersion extends SecretVersionMeta {
  readonly sealed: SealedValue;
}

export interface Deletion {
  readonly deletedDate: UnixTime;
  readonly scheduledPurgeDate: UnixTime;
}

/** The latest version of a secret, and its deletion state. */
export interface SecretHead {
  readonly latest: SecretVersion;
  readonly deletion?: Deletion;
}

/** A list entry: never a value. */
export interface SecretSummary extends SecretVersionMeta {
  readonly deletion?: Deletion;
}

export interface AttributeUpdate {
  readonly enabled?: boolean;
  readonly nbf?: UnixTime | null;
  readonly exp?: UnixTime | null;
}

export interface SecretUpdate {
  /** Keys only: the version's facts after the update (key_ops may change). */
  readonly facts?: string;
  readonly attributes?: AttributeUpdate;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface PageRequest {
  readonly maxResults: number;
  readonly token?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; absent on the last page. */
  readonly nextToken?: string;
}

export const SECRET_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/;
export const SECRET_VERSION_PATTERN = /^[0-9a-fA-F]{32}$/;
/** 25 KiB, as Azure Key Vault. */
export const MAX_SECRET_VALUE_BYTES = 25 * 1024;
