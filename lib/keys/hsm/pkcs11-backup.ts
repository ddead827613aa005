/**
 * BackupKey and RestoreKey of HSM keys through PKCS#11, the way Azure backs up
 * its HSM keys: the material leaves the HSM only wrapped under a key that
 * never leaves it, and only a token holding that key restores it (Azure's
 * "security domain"; here the deployment's backup key).
 *
 * - The backup key is an AES key in the token, labelled by the deployment
 *   (ARCA_PKCS11_BACKUP_KEY), with CKA_TRUSTED set. Only the token's security
 *   officer can set CKA_TRUSTED (SoftHSM2; on CloudHSM an admin marks the key
 *   trusted), so the crypto user Arca logs in as cannot make a key of its own
 *   that may wrap HSM keys.
 * - HSM keys are then made extractable but CKA_WRAP_WITH_TRUSTED (and
 *   sensitive): the token refuses to show their value, and to wrap them under
 *   any key but a trusted one (CKR_KEY_NOT_WRAPPABLE).
 * - A version's backup is C_WrapKey with CKM_AES_KEY_WRAP_PAD (RFC 5649) of its
 *   private (or secret) object; restore is C_UnwrapKey into new objects with
 *   the same templates as a generated key, and the public object is made again
 *   from the public facts. The wrapped bytes then go, with the other versions,
 *   into the barrier-sealed backup blob.
 *
 * A version made while the deployment had no backup key is not extractable
 * and cannot be backed up: the token says CKR_KEY_UNEXTRACTABLE, which is
 * turned into a BadParameterError that says so.
 */
import { BadParameterError, ServiceUnavailableError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';
import {
  AES_SECRET_KEY,
  EC_PRIVATE_USAGE,
  ecPublicObject,
  keyObjectTemplates,
  RSA_PRIVATE_USAGE,
  rsaPublicObject,
  type Template,
} from './pkcs11-import.ts';
import type { HsmKeyType } from './pkcs11-mechanisms.ts';
import { findKey, findObjects, idOf, newHandle, rsaPublicJwk } from './pkcs11-objects.ts';
import { ck, ckrOf, type Pkcs11, type Pkcs11Handle } from './pkcs11-session.ts';

/** A PKCS#8 RSA-4096 private key wrapped with padding is about 2.4 KB. */
const WRAPPED_MAX = 8192;

const NOT_EXTRACTABLE = ['CKR_KEY_UNEXTRACTABLE', 'CKR_KEY_NOT_WRAPPABLE'];

/** What a backup holds of one HSM key version. */
export interface WrappedHsmKey {
  readonly mechanism: 'CKM_AES_KEY_WRAP_PAD';
  /** The CKA_LABEL of the backup key that wrapped it. */
  readonly wrappingKey: string;
  /** base64 of the wrapped private (or secret) key. */
  readonly wrapped: string;
}

const corrupt = () =>
  new BadParameterError('Backup blob is corrupt or is not a key backup made by this service.');

/** The bytes a backup carries for a version. */
export function encodeWrapped(wrapped: WrappedHsmKey): Buffer {
  return Buffer.from(JSON.stringify(wrapped));
}

/** A version as a backup carries it; anything else is a corrupt backup (400). */
export function decodeWrapped(bytes: Buffer): WrappedHsmKey {
  let decoded: Partial<WrappedHsmKey> | null;
  try {
    decoded = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt();
  }
  if (
    decoded?.mechanism !== 'CKM_AES_KEY_WRAP_PAD' ||
    typeof decoded.wrappingKey !== 'string' ||
    typeof decoded.wrapped !== 'string'
  ) {
    throw corrupt();
  }
  return decoded as WrappedHsmKey;
}

/** The trusted backup key of the token: exactly one AES key with this label. */
function backupKey(p: Pkcs11, s: Pkcs11Handle, label: string): Pkcs11Handle {
  const found = findObjects(p, s, [
    { type: ck.CKA_TOKEN, value: true },
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_LABEL, value: label },
  ]);
  if (found.length !== 1) {
    throw new ServiceUnavailableError(
      `The HSM's backup key (label ${label}) is ${found.length === 0 ? 'missing' : 'not unique'} in the token.`,
    );
  }
  const key = found[0] as Pkcs11Handle;
  const trusted = p.C_GetAttributeValue(s, key, [{ type: ck.CKA_TRUSTED }])[0]?.value;
  if (!Buffer.isBuffer(trusted) || trusted[0] !== 1) {
    throw new ServiceUnavailableError(
      `The HSM's backup key (label ${label}) is not marked trusted (CKA_TRUSTED), which only the token's ` +
        'security officer (a CloudHSM admin) can set: HSM keys wrap under no other key.',
    );
  }
  return key;
}

/** C_WrapKey of a handle's private (or secret) object under the backup key. */
export function wrapForBackup(p: Pkcs11, s: Pkcs11Handle, handle: string, label: string): WrappedHsmKey {
  const { key } = findKey(p, s, handle, idOf(handle));
  const wrapping = backupKey(p, s, label);
  let wrapped: Buffer;
  try {
    wrapped = p.C_WrapKey(
      s,
      { mechanism: ck.CKM_AES_KEY_WRAP_PAD },
      wrapping,
      key,
      Buffer.alloc(WRAPPED_MAX),
    );
  } catch (error) {
    if (NOT_EXTRACTABLE.includes(ckrOf(error) ?? '')) {
      throw new BadParameterError(
        'A version of this key was made in the HSM as non-extractable, before this deployment backed up HSM ' +
          'keys, so it cannot be backed up; versions made since (rotate the key) can.',
      );
    }
    throw error;
  }
  return { mechanism: 'CKM_AES_KEY_WRAP_PAD', wrappingKey: label, wrapped: wrapped.toString('base64') };
}

/** What a restored version is made from: its type and public part, as the backup's facts hold them. */
export interface RestoreSpec {
  readonly kty: HsmKeyType;
  readonly publicJwk: PublicJwk;
}

/**
 * C_UnwrapKey of a backed-up version into new token objects (a new handle),
 * with the templates of a generated key; RSA and EC get their public object
 * again. The unwrapped RSA key's modulus must be the backup's. `making` is
 * told the handle before anything is made: what was made is the caller's to
 * destroy should a step fail.
 */
export function unwrapFromBackup(
  p: Pkcs11,
  s: Pkcs11Handle,
  backup: WrappedHsmKey,
  spec: RestoreSpec,
  label: string,
  making: (handle: string) => void,
): string {
  if (backup.wrappingKey !== label) {
    throw new BadParameterError(
      `This backup of an HSM key was wrapped by the backup key ${backup.wrappingKey}, which is not this ` +
        "deployment's: it restores only where that key is.",
    );
  }
  const { handle, id } = newHandle();
  const { privateKey, publicKey } = keyObjectTemplates(handle, id, true);
  const wrapping = backupKey(p, s, label);
  making(handle);
  const unwrap = (template: Template) =>
    p.C_UnwrapKey(
      s,
      { mechanism: ck.CKM_AES_KEY_WRAP_PAD },
      wrapping,
      Buffer.from(backup.wrapped, 'base64'),
      template,
    );
  const { kty, publicJwk } = spec;
  if (kty === 'oct-HSM') {
    // CKA_VALUE_LEN comes from the unwrapped value (SoftHSM2 leaves it 0: see Pkcs11KeyStore.open).
    unwrap([...privateKey, ...AES_SECRET_KEY]);
    return handle;
  }
  if (kty === 'RSA-HSM') {
    const { n, e } = publicJwk as { n: Buffer; e: Buffer };
    const key = unwrap([
      { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_RSA },
      ...privateKey,
      ...RSA_PRIVATE_USAGE,
    ]);
    if (!rsaPublicJwk(p, s, key).n?.equals(n)) {
      throw new BadParameterError('Backup blob is corrupt: a version does not match its public key.');
    }
    p.C_CreateObject(s, rsaPublicObject(n, e, publicKey));
    return handle;
  }
  const { crv, x, y } = publicJwk as { crv: CurveName; x: Buffer; y: Buffer };
  unwrap([
    { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_EC },
    ...privateKey,
    ...EC_PRIVATE_USAGE,
  ]);
  p.C_CreateObject(s, ecPublicObject(crv, x, y, publicKey));
  return handle;
}
