import { randomUUID } from 'node:crypto';
import { link, unlink, writeFile } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { LocalClient } from './client-registry.ts';
import { readJson } from './client-registry.ts';

export const ALG = 'RS256';
export const TOKEN_LIFETIME_SECONDS = 3600;

export interface AccessTokenSigner {
  issuer: string;
  tenantId: string;
  signingKey: CryptoKey;
  kid: string | undefined;
}

export interface AccessTokenOptions {
  lifetimeSeconds?: number;
  /** Added to the token, overriding the standard claims of the same name. */
  extraClaims?: JWTPayload;
}

/** An app-only access token for `client`, with the claims Entra v2.0 puts in one. */
export function signAccessToken(
  signer: AccessTokenSigner,
  client: LocalClient,
  audience: string,
  options: AccessTokenOptions,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    aud: audience,
    iss: signer.issuer,
    iat: now,
    nbf: now,
    exp: now + (options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
    sub: client.objectId,
    oid: client.objectId,
    tid: signer.tenantId,
    appid: client.clientId,
    azp: client.clientId,
    azpacr: '1',
    idtyp: 'app',
    app_displayname: client.displayName,
    jti: randomUUID(),
    ver: '2.0',
    ...options.extraClaims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: signer.kid, typ: 'JWT' })
    .sign(signer.signingKey);
}

/** The private signing JWK; when two processes create it at once, the first one written wins. */
export async function loadOrCreateSigningKey(path: string): Promise<JWK> {
  const saved = await readJson<JWK>(path);
  if (saved) return saved;
  const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, n: jwk.n, e: jwk.e } as JWK);
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify({ ...jwk, kid, alg: ALG, use: 'sig' }), {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    await link(temporary, path); // unlike rename, never replaces a key another process wrote
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return (await readJson<JWK>(path)) as JWK;
}
