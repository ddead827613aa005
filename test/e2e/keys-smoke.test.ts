import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

describe('keys smoke', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  before(async () => {
    fixture = await localVaultFixture();
  });
  after(() => fixture.close());

  for (const kty of ['RSA', 'RSA-HSM'] as const) {
    it(`creates ${kty}, signs, node verifies`, async () => {
      const client = fixture.keyClient();
      const key = await client.createKey(`k-${kty}`, kty, { keySize: 2048 });
      assert.equal(key.keyType, kty);
      const crypto = fixture.cryptoClient(key);
      const digest = createHash('sha256').update('hello').digest();
      const { result } = await crypto.sign('RS256', digest);
      const pub = createPublicKey({
        key: {
          kty: 'RSA',
          n: Buffer.from(key.key?.n as Uint8Array).toString('base64url'),
          e: Buffer.from(key.key?.e as Uint8Array).toString('base64url'),
        },
        format: 'jwk',
      });
      assert.ok(verify('sha256', Buffer.from('hello'), pub, Buffer.from(result)));
      const enc = await crypto.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: Buffer.from('secret') });
      const dec = await crypto.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: enc.result });
      assert.equal(Buffer.from(dec.result).toString(), 'secret');
      const rotated = await client.rotateKey(`k-${kty}`);
      assert.notEqual(rotated.properties.version, key.properties.version);
    });
  }
  it('EC-HSM and oct-HSM', async () => {
    const client = fixture.keyClient();
    const ec = await client.createEcKey('ec1', { curve: 'P-256', hsm: true });
    const crypto = fixture.cryptoClient(ec);
    const digest = createHash('sha256').update('x').digest();
    const sig = await crypto.sign('ES256', digest);
    assert.ok((await crypto.verify('ES256', digest, sig.result)).result);
    const oct = await client.createOctKey('oct1', { hsm: true, keySize: 256 });
    const c2 = fixture.cryptoClient(oct);
    const w = await c2.wrapKey('A256KW', Buffer.alloc(32, 7));
    const u = await c2.unwrapKey('A256KW', w.result);
    assert.deepEqual(Buffer.from(u.result), Buffer.alloc(32, 7));
  });
});
