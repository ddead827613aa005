import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { SealContext } from '../crypto/barrier.ts';
import { CryptoIntegrityError } from '../crypto/errors.ts';
import { BadParameterError } from '../errors.ts';
import {
  SECRET_NAME_PATTERN,
  SECRET_VERSION_PATTERN,
  type SecretVersion,
  type SecretVersionMeta,
} from './model.ts';
import { lookupSecretName, secretNotFound } from './names.ts';
import { type SecretsDeps, sealContext } from './secrets-deps.ts';

/**
 * A backup is an opaque blob: base64url of a small JSON envelope whose payload
 * (every version, values included) is sealed by the barrier under kind
 * 'backup-secret' and the secret's name. It holds no plaintext, and any change
 * to it fails to open (400). It is not bound to the vault, so it restores into
 * another vault of the same deployment (same key-encryption key), as in Azure.
 */
/** What differs between a secret's backup and a key's (same envelope, same code). */
export interface BackupKind {
  readonly label: 'secret' | 'key';
  readonly notFound: (name: string) => Error;
  /** How a version's value (a key's private part) is sealed in the vault. */
  readonly sealContext: (vault: string, name: string, version: string) => SealContext;
  /** What the backup carries for a version's value (an HSM key's: its material wrapped by the HSM). Default: the value. */
  readonly exportValue?: (version: BackedUpVersion, value: Buffer) => Promise<Buffer>;
  /** The stored value of a backed-up one, and how to undo making it should the restore fail. Default: as carried. */
  readonly importValue?: (version: BackedUpVersion, carried: Buffer) => Promise<ImportedValue>;
}

export type BackedUpVersion = Omit<SecretVersionMeta, 'name'>;

export interface ImportedValue {
  readonly value: Buffer;
  undo(): Promise<void>;
}

export const SECRET_BACKUP: BackupKind = { label: 'secret', notFound: secretNotFound, sealContext };

const formatOf = (kind: BackupKind) => `arca-backup/${kind.label}/v1`;

interface BackupPayload {
  readonly latestVersion: string;
  readonly versions: readonly (Omit<SecretVersionMeta, 'name'> & { readonly value: string })[];
}

const backupContext = (kind: BackupKind, name: string, nonce: string): SealContext => ({
  vault: '*',
  kind: `backup-${kind.label}`,
  name: name.toLowerCase(),
  version: nonce,
});

export function makeBackupSecret(deps: Pick<SecretsDeps, 'store' | 'barrier'>, kind = SECRET_BACKUP) {
  return async (vault: string, rawName: string | undefined): Promise<string> => {
    const name = lookupSecretName(rawName);
    const [versions, head] = await Promise.all([
      deps.store.allVersions(vault, name),
      deps.store.getHead(vault, name),
    ]);
    if (!versions || !head || head.deletion) throw kind.notFound(name);
    const payload: BackupPayload = {
      latestVersion: head.latest.version,
      versions: await Promise.all(
        versions.map(async ({ sealed, name: stored, ...meta }) => {
          const value = await deps.barrier.open(sealed, kind.sealContext(vault, stored, meta.version));
          const carried = kind.exportValue ? await kind.exportValue(meta, value) : value;
          return { ...meta, value: carried.toString('base64') };
        }),
      ),
    };
    const nonce = randomBytes(16).toString('hex');
    const sealed = await deps.barrier.seal(
      Buffer.from(JSON.stringify(payload)),
      backupContext(kind, head.latest.name, nonce),
    );
    const envelope = {
      format: formatOf(kind),
      name: head.latest.name,
      nonce,
      keyring: sealed.keyring,
      wrappedKey: sealed.wrappedKey.toString('base64'),
      iv: sealed.iv.toString('base64'),
      tag: sealed.tag.toString('base64'),
      ciphertext: sealed.ciphertext.toString('base64'),
    };
    return Buffer.from(JSON.stringify(envelope)).toString('base64url');
  };
}

export function makeRestoreSecret(deps: Pick<SecretsDeps, 'store' | 'barrier'>, kind = SECRET_BACKUP) {
  return async (vault: string, blob: string, audit?: AuditEntry) => {
    const { name, payload } = await openBackup(deps, blob, kind);
    const made: ImportedValue[] = [];
    let versions: SecretVersion[];
    try {
      // Imports one at a time, so that a failure leaves nothing half-made that `made` does not know of.
      const values: Buffer[] = [];
      for (const { value, ...meta } of payload.versions) {
        const carried = Buffer.from(value, 'base64');
        const imported = kind.importValue ? await kind.importValue(meta, carried) : undefined;
        if (imported) made.push(imported);
        values.push(imported?.value ?? carried);
      }
      versions = await Promise.all(
        payload.versions.map(async ({ value: _carried, ...meta }, i) => ({
          ...meta,
          name,
          sealed: await deps.barrier.seal(values[i] as Buffer, kind.sealContext(vault, name, meta.version)),
        })),
      );
      await deps.store.restore(vault, versions, payload.latestVersion, audit);
    } catch (error) {
      // Nothing of a failed restore stays behind (HSM objects made for it included).
      await Promise.allSettled(made.map((m) => m.undo()));
      throw error;
    }
    const latest = versions.find((v) => v.version === payload.latestVersion) as SecretVersion;
    const { sealed: _sealed, ...meta } = latest;
    return meta as SecretVersionMeta;
  };
}

const notABackup = (kind: BackupKind) =>
  new BadParameterError(`Backup blob is corrupt or is not a ${kind.label} backup made by this service.`);

async function openBackup(deps: Pick<SecretsDeps, 'barrier'>, blob: string, kind: BackupKind) {
  let envelope: Record<string, unknown>;
  try {
    envelope = JSON.parse(Buffer.from(blob, 'base64url').toString('utf8'));
  } catch {
    throw notABackup(kind);
  }
  const { format, name, nonce, keyring, wrappedKey, iv, tag, ciphertext } = envelope ?? {};
  const strings = [name, nonce, keyring, wrappedKey, iv, tag, ciphertext];
  if (
    format !== formatOf(kind) ||
    strings.some((s) => typeof s !== 'string') ||
    !SECRET_NAME_PATTERN.test(name as string)
  ) {
    throw notABackup(kind);
  }
  const b64 = (s: unknown) => Buffer.from(s as string, 'base64');
  let payload: BackupPayload;
  try {
    const plaintext = await deps.barrier.open(
      {
        keyring: keyring as string,
        wrappedKey: b64(wrappedKey),
        iv: b64(iv),
        tag: b64(tag),
        ciphertext: b64(ciphertext),
      },
      backupContext(kind, name as string, nonce as string),
    );
    payload = JSON.parse(plaintext.toString('utf8'));
  } catch (error) {
    if (error instanceof CryptoIntegrityError || error instanceof SyntaxError) throw notABackup(kind);
    throw error;
  }
  const valid =
    Array.isArray(payload?.versions) &&
    payload.versions.length > 0 &&
    payload.versions.every((v) => SECRET_VERSION_PATTERN.test(v.version)) &&
    payload.versions.some((v) => v.version === payload.latestVersion);
  if (!valid) throw notABackup(kind);
  return { name: name as string, payload };
}
