import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { describe, it } from 'node:test';
import { nobleEcdsaEngine } from '#lib/keys/software/noble-ecdsa-engine.ts';

const CASES = [
  { curve: 'P-256', node: 'prime256v1', hash: 'sha256' },
  { curve: 'P-256K', node: 'secp256k1', hash: 'sha256' },
  { curve: 'P-384', node: 'secp384r1', hash: 'sha384' },
  { curve: 'P-521', node: 'secp521r1', hash: 'sha512' },
] as const;

describe('ECDSA over a digest (@noble/curves), checked by node:crypto', () => {
  for (const c of CASES) {
    it(`${c.curve}: node verifies what it signs, and it verifies what node signs`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: c.node });
      const message = Buffer.from(`message for ${c.curve}`);
      const digest = createHash(c.hash).update(message).digest();
      const signature = nobleEcdsaEngine.sign(c.curve, privateKey, digest) as Buffer;
      assert.ok(nodeVerify(c.hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
      const byNode = nodeSign(c.hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.equal(nobleEcdsaEngine.verify(c.curve, publicKey, digest, byNode), true);
      const tampered = Buffer.from(signature);
      tampered[5] = (tampered[5] as number) ^ 1;
      assert.equal(nobleEcdsaEngine.verify(c.curve, publicKey, digest, tampered), false);
    });
  }
});
