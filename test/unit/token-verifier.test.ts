import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { makeTokenVerifier } from '#lib/auth/token-verifier.ts';
import { UnauthorizedError } from '#lib/errors.ts';

const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool';

describe('the token verifier', async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  const verify = makeTokenVerifier({
    issuer: ISSUER,
    audience: 'app-client-id',
    keys: createLocalJWKSet({ keys: [jwk] }),
  });
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setExpirationTime('5m')
      .sign(privateKey);

  it('accepts a Cognito client-credentials access token, which names its client instead of an audience', async () => {
    const principal = await verify(
      await sign({ sub: 'app-client-id', client_id: 'app-client-id', token_use: 'access' }),
    );
    assert.equal(principal.objectId, 'app-client-id');
    assert.equal(principal.appId, 'app-client-id');
  });

  it('refuses a token for another audience, another client, or an ID token', async () => {
    for (const claims of [
      { sub: 's', aud: 'someone-else' },
      { sub: 's', client_id: 'other-client', token_use: 'access' },
      { sub: 's', client_id: 'app-client-id', token_use: 'id' },
      { sub: 's' },
    ]) {
      await assert.rejects(verify(await sign(claims)), UnauthorizedError, JSON.stringify(claims));
    }
  });

  it('accepts an aud list that holds this service', async () => {
    assert.equal((await verify(await sign({ sub: 's', aud: ['x', 'app-client-id'] }))).objectId, 's');
  });
});
