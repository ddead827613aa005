import type { CurveName, KeyType, PublicJwk } from './key-operations.ts';

/** Where a key version's private (or secret) part lives. */
export type KeyProtection = 'software' | 'pkcs11' | 'kms';

/**
 * The public facts of one key version, stored beside it in the clear (the
 * store's opaque `facts` field): never private material. The private part, or
 * for an HSM key its handle, is what the barrier seals.
 */
export interface KeyFacts {
  readonly kty: KeyType;
  readonly keyOps: readonly string[];
  readonly protection: KeyProtection;
  /** RSA modulus bits, or oct key bits. */
  readonly keySize?: number;
  readonly crv?: CurveName;
  /** base64url public members. */
  readonly n?: string;
  readonly e?: string;
  readonly x?: string;
  readonly y?: string;
}

export function encodeFacts(facts: KeyFacts): string {
  return JSON.stringify(facts);
}

export function decodeFacts(stored: string | undefined): KeyFacts {
  if (!stored) throw new Error('stored key version has no facts');
  return JSON.parse(stored) as KeyFacts;
}

const b64u = (b: Buffer | undefined) => b?.toString('base64url');

/** The facts of a public JWK, as the backends report it. */
export function factsOf(
  jwk: PublicJwk,
  protection: KeyProtection,
  keyOps: readonly string[],
  keySize?: number,
): KeyFacts {
  const n = b64u(jwk.n);
  const e = b64u(jwk.e);
  const x = b64u(jwk.x);
  const y = b64u(jwk.y);
  const size = keySize ?? (jwk.n ? jwk.n.length * 8 : undefined);
  return {
    kty: jwk.kty,
    keyOps: [...keyOps],
    protection,
    ...(size !== undefined && { keySize: size }),
    ...(jwk.crv !== undefined && { crv: jwk.crv }),
    ...(n !== undefined && { n }),
    ...(e !== undefined && { e }),
    ...(x !== undefined && { x }),
    ...(y !== undefined && { y }),
  };
}

/** The PublicJwk (raw bytes) of stored facts. */
export function publicJwkOfFacts(facts: KeyFacts): PublicJwk {
  const buf = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64url'));
  const n = buf(facts.n);
  const e = buf(facts.e);
  const x = buf(facts.x);
  const y = buf(facts.y);
  return {
    kty: facts.kty,
    ...(facts.crv !== undefined && { crv: facts.crv }),
    ...(n && { n }),
    ...(e && { e }),
    ...(x && { x }),
    ...(y && { y }),
  };
}
