import { BadParameterError, ForbiddenError } from '../errors.ts';
import type { SecretVersion } from '../secrets/model.ts';
import { findLiveKeyVersion } from './get-key.ts';
import { decodeFacts, type KeyFacts } from './key-facts.ts';
import {
  ENCRYPTION_ALGORITHMS,
  type EncryptionAlgorithm,
  type KeyOperations,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from './key-operations.ts';
import { type KeysDeps, keySealContext } from './keys-deps.ts';

export type CryptoOperation = 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey' | 'sign' | 'verify';

/** Operations that make new protected data: refused outside the key's validity period. */
const NEEDS_VALIDITY: ReadonlySet<CryptoOperation> = new Set(['encrypt', 'wrapKey', 'sign']);

const ENCRYPTIONS: ReadonlySet<string> = new Set(ENCRYPTION_ALGORITHMS);
const SIGNATURES: ReadonlySet<string> = new Set(SIGNATURE_ALGORITHMS);

export function requireEncryptionAlgorithm(alg: string): EncryptionAlgorithm {
  if (!ENCRYPTIONS.has(alg)) {
    throw new BadParameterError(
      `alg must be one of ${ENCRYPTION_ALGORITHMS.join(', ')}; ${alg.slice(0, 32)} is not supported.`,
    );
  }
  return alg as EncryptionAlgorithm;
}

export function requireSignatureAlgorithm(alg: string): SignatureAlgorithm {
  if (!SIGNATURES.has(alg)) {
    throw new BadParameterError(
      `alg must be one of ${SIGNATURE_ALGORITHMS.join(', ')}; ${alg.slice(0, 32)} is not supported.`,
    );
  }
  return alg as SignatureAlgorithm;
}

/**
 * Checks what Key Vault checks before a cryptographic operation: the key is
 * enabled, its key_ops allow the operation, and (for operations that make new
 * protected data: encrypt, wrapKey, sign) the time is within nbf..exp. Decrypt,
 * unwrapKey and verify keep working on an expired key, so data protected
 * before it expired stays readable.
 */
export function requireUsable(
  version: SecretVersion,
  facts: KeyFacts,
  operation: CryptoOperation,
  now: number,
) {
  const a = version.attributes;
  if (!a.enabled) {
    throw new ForbiddenError(`Operation ${operation} is not allowed on a disabled key.`, 'KeyDisabled');
  }
  if (!facts.keyOps.includes(operation)) {
    throw new BadParameterError(
      `Operation ${operation} is not permitted by this key's key_ops (${facts.keyOps.join(', ') || 'none'}).`,
    );
  }
  if (NEEDS_VALIDITY.has(operation)) {
    if (a.nbf !== undefined && now < a.nbf) {
      throw new ForbiddenError(
        `Operation ${operation} is not allowed on a key that is not yet valid.`,
        'KeyNotYetValid',
      );
    }
    if (a.exp !== undefined && now >= a.exp) {
      throw new ForbiddenError(`Operation ${operation} is not allowed on an expired key.`, 'KeyExpired');
    }
  }
}

/** A live key version, checked for the operation and opened where it lives. */
export function makeOpenKey(deps: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    rawVersion: string | undefined,
    operation: CryptoOperation,
  ): Promise<{ version: SecretVersion; key: KeyOperations }> => {
    const version = await findLiveKeyVersion(deps, vault, rawName, rawVersion);
    const facts = decodeFacts(version.facts);
    requireUsable(version, facts, operation, deps.now());
    const backend = facts.protection === 'software' ? deps.backends.software : await deps.backends.hsm();
    const part = await deps.barrier.open(
      version.sealed,
      keySealContext(vault, version.name, version.version),
    );
    try {
      return { version, key: await backend.open(facts, part) };
    } finally {
      part.fill(0);
    }
  };
}
