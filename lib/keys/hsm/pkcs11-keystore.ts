/**
 * HSM-protected keys (kty RSA-HSM, EC-HSM, oct-HSM) through PKCS#11
 * (DESIGN.md #5): generated inside the token (or imported into it, ImportKey
 * with Hsm: true) as sensitive token objects that never leave it in the
 * clear, and used there. Arca stores only the handle, a string that is
 * both the CKA_LABEL of the key's objects and (hex after the prefix) their
 * CKA_ID; the public part of an RSA or EC key is read from the token as a JWK.
 *
 * This file holds the public types and Pkcs11KeyStore (generate, import,
 * open, attributes, destroy). The rest is in:
 * - pkcs11-import.ts: the templates of the key objects (shared by generate
 *   and import), and the validation of an imported JWK;
 * - hsm-key.ts: HsmKey, the operations of an opened key, and nodeJwkOf;
 * - pkcs11-mechanisms.ts: key sizes, curves, hashes, the schemes of each
 *   algorithm and the PKCS#11 mechanisms that perform them;
 * - pkcs11-objects.ts: finding the key's objects and reading their attributes;
 * - oaep-decode.ts: the OAEP unpadding for tokens without OAEP with SHA-256;
 * - pkcs11-backup.ts: backup and restore, wrapped under a trusted backup key.
 *
 * Every refusal of input is a BadParameterError; messages never carry key
 * material, plaintext or the PIN.
 */
import { BadParameterError, ServiceUnavailableError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '#lib/keys/key-operations.ts';
import { HsmKey } from './hsm-key.ts';
import { type RestoreSpec, unwrapFromBackup, type WrappedHsmKey, wrapForBackup } from './pkcs11-backup.ts';
import {
  AES_SECRET_KEY,
  EC_PRIVATE_USAGE,
  EC_PUBLIC_USAGE,
  importObjects,
  keyObjectTemplates,
  RSA_PRIVATE_USAGE,
  RSA_PUBLIC_USAGE,
} from './pkcs11-import.ts';
import { CURVES, HSM_AES_KEY_SIZES, HSM_RSA_KEY_SIZES, type HsmKeyType } from './pkcs11-mechanisms.ts';
import {
  attribute,
  curveOf,
  ecPublicJwk,
  findKey,
  findObjects,
  idOf,
  keyTypeOf,
  newHandle,
  rsaPublicJwk,
  ulong,
} from './pkcs11-objects.ts';
import { ck, type Pkcs11, type Pkcs11Handle, type Pkcs11Session } from './pkcs11-session.ts';

export { HsmKey, nodeJwkOf } from './hsm-key.ts';
export { HSM_AES_KEY_SIZES, HSM_RSA_KEY_SIZES, type HsmKeyType } from './pkcs11-mechanisms.ts';

export type HsmKeySpec =
  | { readonly kty: 'RSA-HSM'; readonly keySize?: number; readonly publicExponent?: number }
  | { readonly kty: 'EC-HSM'; readonly curve?: CurveName }
  | { readonly kty: 'oct-HSM'; readonly keySize?: number };

export interface GeneratedHsmKey {
  /** What Arca stores: the CKA_LABEL (and, hex, the CKA_ID) of the key's objects in the token. */
  readonly handle: string;
  readonly kty: HsmKeyType;
  /** n, e for RSA-HSM; crv, x, y for EC-HSM; only kty for oct-HSM. */
  readonly publicJwk: PublicJwk;
}

/** The protection attributes of the private (or secret) key object. */
export interface HsmKeyAttributes {
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
  readonly wrapWithTrusted: boolean;
}

const RSA_PUBLIC_EXPONENT = 65537;

/** What a token answers when it will not hold the imported values: the caller's input. */
const IMPORT_REFUSED = ['CKR_ATTRIBUTE_VALUE_INVALID', 'CKR_KEY_SIZE_RANGE', 'CKR_DOMAIN_PARAMS_INVALID'];

export interface Pkcs11KeyStoreOptions {
  /**
   * The CKA_LABEL of the token's trusted backup key: with it, keys are made
   * extractable only under trusted keys, and back up (pkcs11-backup.ts);
   * without it, they are never extractable and do not.
   */
  readonly backupKeyLabel?: string;
}

/** Keys of one token, through its (shared) session. */
export class Pkcs11KeyStore {
  readonly #backupKeyLabel: string | undefined;

  constructor(
    private readonly session: Pkcs11Session,
    options: Pkcs11KeyStoreOptions = {},
  ) {
    this.#backupKeyLabel = options.backupKeyLabel;
  }

  /** Whether keys of this store can be backed up (the deployment has a backup key). */
  get backsUp(): boolean {
    return this.#backupKeyLabel !== undefined;
  }

  /**
   * Generates a key inside the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
   * CKA_WRAP_WITH_TRUSTED true; CKA_EXTRACTABLE only with a backup key.
   */
  async generateKey(spec: HsmKeySpec): Promise<GeneratedHsmKey> {
    const { handle, id } = newHandle();
    const { privateKey, publicKey } = keyObjectTemplates(handle, id, this.backsUp);

    if (spec.kty === 'RSA-HSM') {
      const size = spec.keySize ?? 2048;
      if (!HSM_RSA_KEY_SIZES.includes(size)) {
        throw new BadParameterError(
          `key_size must be one of ${HSM_RSA_KEY_SIZES.join(', ')} for an RSA-HSM key`,
        );
      }
      if (spec.publicExponent !== undefined && spec.publicExponent !== RSA_PUBLIC_EXPONENT) {
        throw new BadParameterError(`public_exponent must be ${RSA_PUBLIC_EXPONENT}`);
      }
      return this.#run('generate an RSA-HSM key', async (p, s) => {
        const pair = await p.C_GenerateKeyPairAsync(
          s,
          { mechanism: ck.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [
            ...publicKey,
            { type: ck.CKA_MODULUS_BITS, value: size },
            { type: ck.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ...RSA_PUBLIC_USAGE,
          ],
          [...privateKey, ...RSA_PRIVATE_USAGE],
        );
        return { handle, kty: 'RSA-HSM' as const, publicJwk: rsaPublicJwk(p, s, pair.publicKey) };
      });
    }

    if (spec.kty === 'EC-HSM') {
      const curve = spec.curve ?? 'P-256';
      if (!Object.hasOwn(CURVES, curve)) {
        throw new BadParameterError(`crv must be one of ${Object.keys(CURVES).join(', ')} for an EC-HSM key`);
      }
      return this.#run('generate an EC-HSM key', async (p, s) => {
        const pair = await p.C_GenerateKeyPairAsync(
          s,
          { mechanism: ck.CKM_EC_KEY_PAIR_GEN },
          [
            ...publicKey,
            { type: ck.CKA_EC_PARAMS, value: Buffer.from(CURVES[curve].params, 'hex') },
            ...EC_PUBLIC_USAGE,
          ],
          [...privateKey, ...EC_PRIVATE_USAGE],
        );
        return { handle, kty: 'EC-HSM' as const, publicJwk: ecPublicJwk(p, s, pair.publicKey, curve) };
      });
    }

    if (spec.kty === 'oct-HSM') {
      const size = spec.keySize ?? 256;
      if (!HSM_AES_KEY_SIZES.includes(size)) {
        throw new BadParameterError(
          `key_size must be one of ${HSM_AES_KEY_SIZES.join(', ')} for an oct-HSM key`,
        );
      }
      return this.#run('generate an oct-HSM key', async (p, s) => {
        await p.C_GenerateKeyAsync(s, { mechanism: ck.CKM_AES_KEY_GEN }, [
          ...privateKey,
          ...AES_SECRET_KEY,
          { type: ck.CKA_VALUE_LEN, value: size / 8 },
        ]);
        return { handle, kty: 'oct-HSM' as const, publicJwk: { kty: 'oct-HSM' as const } };
      });
    }
    throw new BadParameterError('kty must be RSA-HSM, EC-HSM or oct-HSM for an HSM key');
  }

  /**
   * Imports a JWK with private members (kty RSA/RSA-HSM, EC/EC-HSM, oct/oct-HSM)
   * into the token with C_CreateObject, under a fresh handle: the same
   * protection and usage as a generated key (CKA_SENSITIVE,
   * CKA_WRAP_WITH_TRUSTED), though PKCS#11 then reports CKA_ALWAYS_SENSITIVE and
   * CKA_NEVER_EXTRACTABLE false, as the material was once outside. A
   * malformed or inconsistent JWK is a BadParameterError before the token is
   * touched; should a creation fail half-way, what was made is destroyed.
   */
  async importKey(jwk: unknown): Promise<GeneratedHsmKey> {
    const { handle, id } = newHandle();
    const objects = importObjects(jwk, keyObjectTemplates(handle, id, this.backsUp));
    const operation = `import an ${objects.kty} key`;
    try {
      return await this.session.run(
        (p, s) => {
          const key = p.C_CreateObject(s, objects.key);
          const publicKey = objects.public ? p.C_CreateObject(s, objects.public) : undefined;
          const publicJwk =
            objects.kty === 'RSA-HSM'
              ? rsaPublicJwk(p, s, publicKey ?? key)
              : objects.kty === 'EC-HSM'
                ? ecPublicJwk(p, s, publicKey ?? key, objects.curve as CurveName)
                : objects.publicJwk;
          return { handle, kty: objects.kty, publicJwk };
        },
        { operation, inputRefused: IMPORT_REFUSED },
      );
    } catch (error) {
      // Whatever was made before the failure (on a new session, should the token have dropped this one).
      await this.destroy(handle).catch(() => undefined);
      throw error;
    } finally {
      objects.wipe();
    }
  }

  /**
   * The key of a handle, ready for operations. NotFoundError (KeyNotFound)
   * when the token has none. `octBytes`: an AES key's length as Arca recorded
   * it, for a token that leaves CKA_VALUE_LEN 0 on a key it unwrapped
   * (SoftHSM2 does, for a restored oct-HSM key).
   */
  async open(handle: string, octBytes?: number): Promise<HsmKey> {
    const id = idOf(handle);
    const refs = await this.#run('open an HSM key', (p, s) => findKey(p, s, handle, id));
    return this.#run('read an HSM key', (p, s) => {
      const kty = keyTypeOf(p, s, refs.key);
      if (kty === 'RSA-HSM') {
        const publicJwk = rsaPublicJwk(p, s, refs.public ?? refs.key);
        return new HsmKey(this.session, handle, id, kty, publicJwk, (publicJwk.n as Buffer).length, refs);
      }
      if (kty === 'EC-HSM') {
        const curve = curveOf(attribute(p, s, refs.key, ck.CKA_EC_PARAMS));
        const publicJwk = refs.public ? ecPublicJwk(p, s, refs.public, curve) : { kty, crv: curve };
        return new HsmKey(this.session, handle, id, kty, publicJwk, CURVES[curve].size, refs);
      }
      const size = ulong(attribute(p, s, refs.key, ck.CKA_VALUE_LEN)) || octBytes;
      if (!size) throw new ServiceUnavailableError('The HSM reports no length for an oct-HSM key.');
      return new HsmKey(this.session, handle, id, kty, { kty }, size, refs);
    });
  }

  /** A version's material wrapped under the trusted backup key, for BackupKey (pkcs11-backup.ts). */
  async exportForBackup(handle: string): Promise<WrappedHsmKey> {
    const label = this.#requireBackupKey();
    return this.#run('back up an HSM key', (p, s) => wrapForBackup(p, s, handle, label));
  }

  /** RestoreKey: the backed-up version made again in the token, under a new handle. */
  async restoreFromBackup(backup: WrappedHsmKey, spec: RestoreSpec): Promise<string> {
    const label = this.#requireBackupKey();
    let made: string | undefined;
    try {
      return await this.session.run(
        (p, s) =>
          unwrapFromBackup(p, s, backup, spec, label, (handle) => {
            made = handle;
          }),
        { operation: 'restore an HSM key', inputRefused: ['CKR_WRAPPED_KEY_INVALID', 'CKR_GENERAL_ERROR'] },
      );
    } catch (error) {
      if (made !== undefined) await this.destroy(made).catch(() => undefined);
      throw error;
    }
  }

  #requireBackupKey(): string {
    if (this.#backupKeyLabel === undefined) {
      throw new BadParameterError(
        'HSM keys cannot be backed up in this deployment: their material never leaves the HSM unless it is wrapped under a trusted backup key in the token, and none is configured (ARCA_PKCS11_BACKUP_KEY). Use a software key (kty RSA or EC) where a portable backup is needed.',
      );
    }
    return this.#backupKeyLabel;
  }

  /** CKA_EXTRACTABLE, CKA_SENSITIVE, CKA_NEVER_EXTRACTABLE … of the private (or secret) key. */
  async attributes(handle: string): Promise<HsmKeyAttributes> {
    const id = idOf(handle);
    return this.#run('read the attributes of an HSM key', (p, s) => {
      const { key } = findKey(p, s, handle, id);
      const values = p.C_GetAttributeValue(s, key, [
        { type: ck.CKA_TOKEN },
        { type: ck.CKA_PRIVATE },
        { type: ck.CKA_SENSITIVE },
        { type: ck.CKA_EXTRACTABLE },
        { type: ck.CKA_ALWAYS_SENSITIVE },
        { type: ck.CKA_NEVER_EXTRACTABLE },
        { type: ck.CKA_WRAP_WITH_TRUSTED },
      ]);
      const flag = (i: number) => (values[i]?.value as Buffer | undefined)?.[0] === 1;
      return {
        token: flag(0),
        private: flag(1),
        sensitive: flag(2),
        extractable: flag(3),
        alwaysSensitive: flag(4),
        neverExtractable: flag(5),
        wrapWithTrusted: flag(6),
      };
    });
  }

  /** Destroys every object of the handle (purge). False when the token held none. */
  async destroy(handle: string): Promise<boolean> {
    const id = idOf(handle);
    return this.#run('destroy an HSM key', (p, s) => {
      const objects = findObjects(p, s, [
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_LABEL, value: handle },
        { type: ck.CKA_ID, value: id },
      ]);
      for (const object of objects) p.C_DestroyObject(s, object);
      return objects.length > 0;
    });
  }

  #run<T>(operation: string, fn: (p: Pkcs11, s: Pkcs11Handle) => T | Promise<T>): Promise<T> {
    return this.session.run(fn, { operation });
  }
}
