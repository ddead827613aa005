import type { VaultView } from '../secrets/secret-bundles.ts';
import { makeOpenKey, requireEncryptionAlgorithm, requireSignatureAlgorithm } from './key-crypto.ts';
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
}

const bytes = (s: string | null | undefined) => (s == null ? undefined : Buffer.from(s, 'base64url'));
const b64u = (b: Buffer | undefined) => b?.toString('base64url');
const kidOf = (vault: Vault, name: string, version: string) => `${vault.url}/keys/${name}/${version}`;

export function makeEncrypt(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: OperationInput,
  ) => {
    const alg = requireEncryptionAlgorithm(input.alg);
    const { version: v, key } = await open(vault.name, name, version, 'encrypt');
    const iv = bytes(input.iv);
    const aad = bytes(input.aad);
    const out = await key.encrypt(alg, bytes(input.value) as Buffer, {
      ...(iv && { iv }),
      ...(aad && { aad }),
    });
    return {
      kid: kidOf(vault, v.name, v.version),
      value: b64u(out.ciphertext),
      ...(out.iv && { iv: b64u(out.iv) }),
      ...(out.tag && { tag: b64u(out.tag) }),
      ...(aad && out.tag && { aad: b64u(aad) }),
    };
  };
}

export function makeDecrypt(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: OperationInput,
  ) => {
    const alg = requireEncryptionAlgorithm(input.alg);
    const { version: v, key } = await open(vault.name, name, version, 'decrypt');
    const iv = bytes(input.iv);
    const tag = bytes(input.tag);
    const aad = bytes(input.aad);
    const plaintext = await key.decrypt(alg, bytes(input.value) as Buffer, {
      ...(iv && { iv }),
      ...(tag && { tag }),
      ...(aad && { aad }),
    });
    return { kid: kidOf(vault, v.name, v.version), value: b64u(plaintext) };
  };
}

export function makeWrapKey(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: OperationInput,
  ) => {
    const alg = requireEncryptionAlgorithm(input.alg);
    const { version: v, key } = await open(vault.name, name, version, 'wrapKey');
    const wrapped = await key.wrapKey(alg, bytes(input.value) as Buffer);
    return { kid: kidOf(vault, v.name, v.version), value: b64u(wrapped) };
  };
}

export function makeUnwrapKey(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: OperationInput,
  ) => {
    const alg = requireEncryptionAlgorithm(input.alg);
    const { version: v, key } = await open(vault.name, name, version, 'unwrapKey');
    const unwrapped = await key.unwrapKey(alg, bytes(input.value) as Buffer);
    return { kid: kidOf(vault, v.name, v.version), value: b64u(unwrapped) };
  };
}

export function makeSign(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: { alg: string; value: string },
  ) => {
    const alg = requireSignatureAlgorithm(input.alg);
    const { version: v, key } = await open(vault.name, name, version, 'sign');
    const signature = await key.sign(alg, bytes(input.value) as Buffer);
    return { kid: kidOf(vault, v.name, v.version), value: b64u(signature) };
  };
}

export function makeVerify(deps: Deps) {
  const open = makeOpenKey(deps);
  return async (
    vault: Vault,
    name: string | undefined,
    version: string | undefined,
    input: { alg: string; digest: string; value: string },
  ) => {
    const alg = requireSignatureAlgorithm(input.alg);
    const { key } = await open(vault.name, name, version, 'verify');
    return { value: await key.verify(alg, bytes(input.digest) as Buffer, bytes(input.value) as Buffer) };
  };
}
