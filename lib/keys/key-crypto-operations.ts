import type { VaultView } from '../secrets/secret-bundles.ts';
import {
  type CryptoOperation,
  makeOpenKey,
  requireEncryptionAlgorithm,
  requireSignatureAlgorithm,
} from './key-crypto.ts';
import type { KeyOperations } from './key-operations.ts';
import type { KeysDeps } from './keys-deps.ts';

/**
 * encrypt, decrypt, wrapKey, unwrapKey, sign and verify as the API has them:
 * base64url in, KeyOperationResult (or KeyVerifyResult) out, kid naming the
 * version that did the work. Plaintext, keys and digests are never logged or
 * put in an error.
 */
type Vault = VaultView & { readonly name: string };
type Deps = Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now'>;

interface OperationInput {
  readonly alg: string;
  readonly value: string;
  readonly iv?: string | null | undefined;
  readonly aad?: string | null | undefined;
  readonly tag?: string | null | undefined;
  /** verify only. */
  readonly digest?: string;
}

const bytes = (s: string | null | undefined) => (s == null ? undefined : Buffer.from(s, 'base64url'));
const b64u = (b: Buffer | undefined) => b?.toString('base64url');

/**
 * One operation: the algorithm checked first (before any read), then the
 * version opened for it (live, enabled, allowed by key_ops, valid where that
 * matters), then `run`; a result with a value gets the version's kid.
 */
function keyOperation<A, R extends object>(
  operation: CryptoOperation,
  algorithm: (alg: string) => A,
  run: (key: KeyOperations, alg: A, input: OperationInput) => Promise<R>,
) {
  return (deps: Deps) => {
    const open = makeOpenKey(deps);
    return async (
      vault: Vault,
      name: string | undefined,
      version: string | undefined,
      input: OperationInput,
    ) => {
      const alg = algorithm(input.alg);
      const { version: v, key } = await open(vault.name, name, version, operation);
      const result: R & { readonly kid?: string } = await run(key, alg, input);
      return operation === 'verify' ? result : { kid: `${vault.url}/keys/${v.name}/${v.version}`, ...result };
    };
  };
}

export const makeEncrypt = keyOperation('encrypt', requireEncryptionAlgorithm, async (key, alg, input) => {
  const iv = bytes(input.iv);
  const aad = bytes(input.aad);
  const out = await key.encrypt(alg, bytes(input.value) as Buffer, {
    ...(iv && { iv }),
    ...(aad && { aad }),
  });
  return {
    value: b64u(out.ciphertext),
    ...(out.iv && { iv: b64u(out.iv) }),
    ...(out.tag && { tag: b64u(out.tag) }),
    ...(aad && out.tag && { aad: b64u(aad) }),
  };
});

export const makeDecrypt = keyOperation('decrypt', requireEncryptionAlgorithm, async (key, alg, input) => {
  const iv = bytes(input.iv);
  const tag = bytes(input.tag);
  const aad = bytes(input.aad);
  const plaintext = await key.decrypt(alg, bytes(input.value) as Buffer, {
    ...(iv && { iv }),
    ...(tag && { tag }),
    ...(aad && { aad }),
  });
  return { value: b64u(plaintext) };
});

export const makeWrapKey = keyOperation('wrapKey', requireEncryptionAlgorithm, async (key, alg, input) => ({
  value: b64u(await key.wrapKey(alg, bytes(input.value) as Buffer)),
}));

export const makeUnwrapKey = keyOperation(
  'unwrapKey',
  requireEncryptionAlgorithm,
  async (key, alg, input) => ({
    value: b64u(await key.unwrapKey(alg, bytes(input.value) as Buffer)),
  }),
);

export const makeSign = keyOperation('sign', requireSignatureAlgorithm, async (key, alg, input) => ({
  value: b64u(await key.sign(alg, bytes(input.value) as Buffer)),
}));

export const makeVerify = keyOperation('verify', requireSignatureAlgorithm, async (key, alg, input) => ({
  value: await key.verify(alg, bytes(input.digest) as Buffer, bytes(input.value) as Buffer),
}));
