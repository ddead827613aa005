import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  type Tag,
} from '@aws-sdk/client-kms';
import { BadParameterError, ServiceUnavailableError } from '#lib/errors.ts';
import type { CurveName, PublicJwk } from '../key-operations.ts';
import { callKms, kmsErrorName, translateKmsError } from './kms-errors.ts';
import { CURVES, publicJwkFromSpki } from './public-key.ts';

/**
 * Creating and purging the AWS KMS keys behind HSM-protected key versions
 * (kty RSA-HSM, EC-HSM): one KMS key per key version, created inside KMS,
 * whose private part never leaves it. Only the public key and the KMS key's
 * ARN are kept by Arca.
 */

export type KmsKeyType = 'RSA-HSM' | 'EC-HSM';
export type KmsKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
export type KmsKeyOperation = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey';

export interface CreateKmsKeyRequest {
  readonly kty: KmsKeyType;
  /** RSA only: 2048 (the default), 3072 or 4096. */
  readonly size?: number;
  /** EC only: P-256 (the default), P-256K, P-384 or P-521. */
  readonly crv?: CurveName;
  /** The key_ops asked for; omitted or empty means sign and verify (see usageFor). */
  readonly keyOps?: readonly string[];
  readonly vault: string;
  readonly name: string;
  readonly version: string;
  /**
   * Extra KMS resource tags set by the deployment (cost allocation, stack …).
   * Not the key's Key Vault tags: those are caller data, change on every
   * update (KMS tags would drift), and KMS tags may drive IAM tag conditions,
   * which callers must not be able to steer. Identifier tags (arca:vault,
   * arca:name, arca:version) are always set and cannot be overridden.
   */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface CreatedKmsKey {
  /** The KMS key's ARN. */
  readonly keyId: string;
  readonly publicJwk: PublicJwk;
  readonly keyUsage: KmsKeyUsage;
  /** The key_ops the key version gets: those asked for, or the default for its usage. */
  readonly keyOps: KmsKeyOperation[];
}

const RSA_SPECS: Readonly<Record<number, KeySpec>> = { 2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096' };
const EC_SPECS: Readonly<Record<CurveName, KeySpec>> = {
  'P-256': 'ECC_NIST_P256',
  'P-256K': 'ECC_SECG_P256K1',
  'P-384': 'ECC_NIST_P384',
  'P-521': 'ECC_NIST_P521',
};

const SIGN_OPS: readonly KmsKeyOperation[] = ['sign', 'verify'];
const ENCRYPT_OPS: readonly KmsKeyOperation[] = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
const IDENTIFIER_TAGS = ['arca:vault', 'arca:name', 'arca:version'] as const;

/** KMS's own bounds on a pending deletion window. */
export const MIN_DELETION_DAYS = 7;
export const MAX_DELETION_DAYS = 30;

/** The KMS key spec for a requested key type and size or curve; BadParameterError when KMS has none. */
export function keySpecFor(kty: KmsKeyType, size?: number, crv?: CurveName): KeySpec {
  if (kty === 'RSA-HSM') {
    if (crv !== undefined) throw new BadParameterError('crv applies to EC keys, not RSA-HSM keys.');
    const spec = RSA_SPECS[size ?? 2048];
    if (!spec) throw new BadParameterError('key_size for an RSA-HSM key must be 2048, 3072 or 4096.');
    return spec;
  }
  if (kty === 'EC-HSM') {
    if (size !== undefined)
      throw new BadParameterError('key_size applies to RSA keys; an EC-HSM key takes crv.');
    const curve = crv ?? 'P-256';
    if (!Object.hasOwn(EC_SPECS, curve)) {
      throw new BadParameterError('crv for an EC-HSM key must be P-256, P-256K, P-384 or P-521.');
    }
    return EC_SPECS[curve];
  }
  throw new BadParameterError('kty must be RSA-HSM or EC-HSM for a key held in AWS KMS.');
}

/**
 * The KMS key usage for the key_ops asked for, and the key_ops the version gets.
 *
 * A KMS asymmetric key has exactly one usage, fixed at creation: SIGN_VERIFY
 * or ENCRYPT_DECRYPT (Key Vault lets one RSA key do both). So key_ops may hold
 * signing operations or encryption operations, never both; an EC key can only
 * sign and verify (KMS's other EC usage, key agreement, has no Key Vault
 * operation). Without key_ops, Key Vault would grant every operation, which
 * KMS cannot; the key is then a signing key (the only usage an EC key has, and
 * the commoner one for an HSM RSA key), and its key_ops say so.
 */
export function usageFor(
  kty: KmsKeyType,
  keyOps: readonly string[] | undefined,
): { keyUsage: KmsKeyUsage; keyOps: KmsKeyOperation[] } {
  const asked = [...new Set(keyOps ?? [])];
  if (asked.includes('export'))
    throw new BadParameterError('key_ops: HSM-protected keys cannot be exported.');
  const known = [...SIGN_OPS, ...ENCRYPT_OPS] as readonly string[];
  if (asked.some((op) => !known.includes(op))) {
    throw new BadParameterError(`key_ops for a key in AWS KMS may only hold ${known.join(', ')}.`);
  }
  if (asked.length === 0) return { keyUsage: 'SIGN_VERIFY', keyOps: [...SIGN_OPS] };
  const signs = asked.some((op) => (SIGN_OPS as readonly string[]).includes(op));
  const encrypts = asked.some((op) => (ENCRYPT_OPS as readonly string[]).includes(op));
  if (encrypts && kty === 'EC-HSM') {
    throw new BadParameterError('key_ops: an EC-HSM key can only sign and verify.');
  }
  if (signs && encrypts) {
    throw new BadParameterError(
      'key_ops: a key in AWS KMS has one usage, so it may sign/verify or encrypt/decrypt/wrapKey/unwrapKey, not both.',
    );
  }
  return { keyUsage: signs ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT', keyOps: asked as KmsKeyOperation[] };
}

function kmsTags(request: CreateKmsKeyRequest): Tag[] {
  const identifiers: Record<(typeof IDENTIFIER_TAGS)[number], string> = {
    'arca:vault': request.vault,
    'arca:name': request.name,
    'arca:version': request.version,
  };
  for (const [key, value] of Object.entries(identifiers)) {
    if (value.length === 0 || value.length > 256)
      throw new BadParameterError(`${key} must be 1 to 256 characters.`);
  }
  const extra = Object.entries(request.tags ?? {});
  for (const [key, value] of extra) {
    if (key.startsWith('arca:') || key.toLowerCase().startsWith('aws:')) {
      throw new BadParameterError('KMS tag keys starting with arca: or aws: are reserved.');
    }
    if (key.length === 0 || key.length > 128 || value.length > 256) {
      throw new BadParameterError('KMS tag keys must be 1 to 128 characters and values at most 256.');
    }
  }
  if (extra.length + IDENTIFIER_TAGS.length > 50)
    throw new BadParameterError('A KMS key takes at most 50 tags.');
  return [
    ...Object.entries(identifiers).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    ...extra.map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
  ];
}

/**
 * Creates the KMS key for one HSM-protected key version and reads its public
 * key. Refusals (a size, curve or key_ops KMS cannot do) happen before any
 * KMS call. Should reading the public key fail, the new KMS key is scheduled
 * for deletion (best effort) so no orphan lingers.
 */
export async function createKmsKey(
  client: Pick<KMSClient, 'send'>,
  request: CreateKmsKeyRequest,
): Promise<CreatedKmsKey> {
  const keySpec = keySpecFor(request.kty, request.size, request.crv);
  const { keyUsage, keyOps } = usageFor(request.kty, request.keyOps);
  const tags = kmsTags(request);

  const created = await callKms(() =>
    client.send(
      new CreateKeyCommand({
        KeySpec: keySpec,
        KeyUsage: keyUsage,
        Origin: 'AWS_KMS',
        Description: `Arca key version ${request.vault}/${request.name}/${request.version}`,
        Tags: tags,
      }),
    ),
  );
  const keyId = created.KeyMetadata?.Arn ?? created.KeyMetadata?.KeyId;
  if (!keyId) throw new ServiceUnavailableError('The key service returned no key id.');

  try {
    const out = await callKms(() => client.send(new GetPublicKeyCommand({ KeyId: keyId })));
    if (!out.PublicKey) throw new ServiceUnavailableError('The key service returned no public key.');
    if ((out.KeySpec && out.KeySpec !== keySpec) || (out.KeyUsage && out.KeyUsage !== keyUsage)) {
      throw new ServiceUnavailableError('The key service returned a key of another kind than asked for.');
    }
    const publicJwk = publicJwkFromSpki(out.PublicKey, request.kty);
    if (!publicJwk || !matchesSpec(publicJwk, keySpec)) {
      throw new ServiceUnavailableError(
        'The key service returned a public key that does not match the key spec.',
      );
    }
    return { keyId, publicJwk, keyUsage, keyOps };
  } catch (error) {
    await scheduleDeletion(client, keyId, MIN_DELETION_DAYS).catch(() => undefined);
    throw translateKmsError(error);
  }
}

function matchesSpec(jwk: PublicJwk, keySpec: KeySpec): boolean {
  if (jwk.kty === 'RSA-HSM') return RSA_SPECS[(jwk.n?.length ?? 0) * 8] === keySpec;
  return jwk.crv !== undefined && EC_SPECS[jwk.crv] === keySpec && jwk.x?.length === CURVES[jwk.crv].size;
}

/**
 * Purges a key version's KMS key: schedules its deletion after `days`
 * (KMS allows 7 to 30; the key is unusable from now on and can still be
 * cancelled by an operator until then). Idempotent: a key already pending
 * deletion, or gone, counts as done.
 */
export async function scheduleDeletion(
  client: Pick<KMSClient, 'send'>,
  keyId: string,
  days: number,
): Promise<{ deletionDate?: Date }> {
  if (!Number.isInteger(days) || days < MIN_DELETION_DAYS || days > MAX_DELETION_DAYS) {
    throw new BadParameterError(
      `The deletion window must be a whole number of days from ${MIN_DELETION_DAYS} to ${MAX_DELETION_DAYS}.`,
    );
  }
  try {
    const out = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days }),
    );
    return out.DeletionDate ? { deletionDate: out.DeletionDate } : {};
  } catch (error) {
    const name = kmsErrorName(error);
    if (name === 'NotFoundException') return {};
    if (name === 'KMSInvalidStateException') {
      const described = await callKms(() => client.send(new DescribeKeyCommand({ KeyId: keyId })));
      const metadata = described.KeyMetadata;
      if (metadata?.KeyState === 'PendingDeletion') {
        return metadata.DeletionDate ? { deletionDate: metadata.DeletionDate } : {};
      }
    }
    throw translateKmsError(error);
  }
}
