import type { KMSClient } from '@aws-sdk/client-kms';
import { BadParameterError } from '#lib/errors.ts';
import type { KeyBackend } from '#lib/keys/key-backends.ts';
import { factsOf, publicJwkOfFacts } from '#lib/keys/key-facts.ts';
import type { CurveName } from '#lib/keys/key-operations.ts';
import { KmsKey } from './kms-key.ts';
import { createKmsKey, type KmsKeyUsage, MIN_DELETION_DAYS, scheduleDeletion } from './kms-key-factory.ts';
import { reviveKmsKey } from './kms-restore.ts';

interface KmsPrivatePart {
  readonly keyId: string;
  readonly keyUsage: KmsKeyUsage;
}

/**
 * HSM keys as AWS KMS asymmetric keys, one KMS key per key version. KMS keys
 * have one usage, so a version signs or encrypts, not both; oct-HSM has no
 * KMS equivalent that speaks raw AES-KW/GCM and is refused, and so is
 * ImportKey into the HSM (KMS imports through a wrapping flow of its own).
 * A backup holds the KMS key's id and restores within KMS's waiting period
 * after purge (kms-restore.ts).
 */
export function kmsBackend(client: Pick<KMSClient, 'send'>): KeyBackend {
  return {
    async create(spec, ids) {
      if (spec.kty !== 'RSA-HSM' && spec.kty !== 'EC-HSM') {
        throw new BadParameterError(
          `kty ${spec.kty} is not available: this deployment's HSM is AWS KMS, which holds RSA-HSM and EC-HSM keys only.`,
        );
      }
      const created = await createKmsKey(client, {
        kty: spec.kty,
        ...(spec.keySize !== undefined && { size: spec.keySize }),
        ...(spec.crv !== undefined && { crv: spec.crv as CurveName }),
        keyOps: spec.keyOps,
        ...ids,
      });
      const part: KmsPrivatePart = { keyId: created.keyId, keyUsage: created.keyUsage };
      return {
        facts: factsOf(created.publicJwk, 'kms', created.keyOps),
        privatePart: Buffer.from(JSON.stringify(part)),
      };
    },
    async importKey() {
      throw new BadParameterError(
        "Importing key material into the HSM is not offered by this deployment's HSM (AWS KMS): KMS takes " +
          'asymmetric key material only through its own wrapping flow (GetParametersForImport, ImportKeyMaterial), ' +
          'which Arca does not run. Create the key in the HSM (kty RSA-HSM or EC-HSM), or import it as a software key (Hsm: false).',
      );
    },
    async open(facts, privatePart) {
      const part = JSON.parse(privatePart.toString('utf8')) as KmsPrivatePart;
      return new KmsKey(client, { ...part, publicJwk: publicJwkOfFacts(facts) });
    },
    // KMS lets no material out: a backup carries the version's KMS key id (kms-restore.ts).
    async exportForBackup(_facts, privatePart) {
      return privatePart;
    },
    async importFromBackup(_facts, exported) {
      let part: KmsPrivatePart;
      try {
        part = JSON.parse(exported.toString('utf8'));
      } catch {
        part = { keyId: '', keyUsage: 'SIGN_VERIFY' };
      }
      if (typeof part?.keyId !== 'string' || part.keyId.length === 0) {
        throw new BadParameterError('Backup blob is corrupt or is not a key backup made by this service.');
      }
      await reviveKmsKey(client, part.keyId);
      return exported;
    },
    async destroy(_facts, privatePart) {
      const part = JSON.parse(privatePart.toString('utf8')) as KmsPrivatePart;
      await scheduleDeletion(client, part.keyId, MIN_DELETION_DAYS);
    },
  };
}
