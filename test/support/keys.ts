import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject, type webcrypto } from 'node:crypto';
import type { JsonWebKey, KeyClientOptions, KeyVaultKey } from '@azure/keyvault-keys';

/** JWK members that hold private or secret material: none may ever leave the vault. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 't', 'key_hsm'] as const;

/** Asserts that a JWK (the SDK's, or one from a raw response) holds no private part. */
export function assertPublicOnly(jwk: object | undefined, what = 'the JWK'): void {
  assert.ok(jwk, `${what} is present`);
  for (const member of PRIVATE_JWK_MEMBERS) {
    const value: unknown = (jwk as Record<string, unknown>)[member];
    assert.ok(
      value === undefined || (value instanceof Uint8Array && value.length === 0),
      `${what} holds no ${member}`,
    );
  }
}

const b64u = (bytes: Uint8Array | undefined) =>
  bytes ? Buffer.from(bytes).toString('base64url') : undefined;

/** The node:crypto public key of a vault key's JWK (RSA, RSA-HSM, EC, EC-HSM), made only from its public members. */
export function publicKeyOf(key: KeyVaultKey | JsonWebKey): KeyObject {
  const jwk = 'key' in key && key.key ? key.key : (key as JsonWebKey);
  assertPublicOnly(jwk);
  if (jwk.kty === 'RSA' || jwk.kty === 'RSA-HSM') {
    return createPublicKey({ key: { kty: 'RSA', n: b64u(jwk.n), e: b64u(jwk.e) }, format: 'jwk' });
  }
  if (jwk.kty === 'EC' || jwk.kty === 'EC-HSM') {
    const crv = jwk.crv === 'P-256K' ? 'secp256k1' : jwk.crv;
    return createPublicKey({ key: { kty: 'EC', crv, x: b64u(jwk.x), y: b64u(jwk.y) }, format: 'jwk' });
  }
  throw new Error(`no public key for kty ${jwk.kty}`);
}

/** Node's JWK (base64url strings) as the SDK's JsonWebKey (bytes), for importKey. */
export function sdkJwkOf(jwk: webcrypto.JsonWebKey): JsonWebKey {
  const bytes = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64url'));
  const out: Record<string, unknown> = {
    kty: jwk.kty,
    ...(jwk.crv && { crv: jwk.crv === 'secp256k1' ? 'P-256K' : jwk.crv }),
  };
  for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y'] as const) {
    const value = bytes(jwk[member] as string | undefined);
    if (value) out[member] = value;
  }
  return out as JsonWebKey;
}

export type SoftwareCurve = 'P-256' | 'P-256K' | 'P-384' | 'P-521';
const OPENSSL_CURVE: Record<SoftwareCurve, string> = {
  'P-256': 'prime256v1',
  'P-256K': 'secp256k1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

/** A key pair made here and now with node:crypto (never a fixture file), with its JWK for import. */
export function nodeRsaKey(modulusLength: number) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength, publicExponent: 65537 });
  return { privateKey, publicKey, jwk: privateKey.export({ format: 'jwk' }) };
}

export function nodeEcKey(curve: SoftwareCurve) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: OPENSSL_CURVE[curve] });
  return { privateKey, publicKey, jwk: privateKey.export({ format: 'jwk' }) };
}

type AdditionalPolicy = NonNullable<KeyClientOptions['additionalPolicies']>[number];

/**
 * A pipeline policy that only records what reaches the network (method and
 * path), so a test can tell whether an SDK call was served by the vault or
 * done locally by the SDK. It changes nothing in the request or response.
 */
export function requestRecorder() {
  const calls: string[] = [];
  const policy: AdditionalPolicy = {
    position: 'perCall',
    policy: {
      name: 'arca-test-request-recorder',
      sendRequest: (request, next) => {
        calls.push(`${request.method} ${new URL(request.url).pathname}`);
        return next(request);
      },
    },
  };
  return {
    policy,
    calls,
    /** The recorded calls whose path ends with /{operation} (encrypt, wrapkey, verify …). */
    served: (operation: string) =>
      calls.filter((c) => c.toLowerCase().endsWith(`/${operation.toLowerCase()}`)),
    clear: () => {
      calls.length = 0;
    },
  };
}
