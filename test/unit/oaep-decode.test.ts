import assert from 'node:assert/strict';
import {
  constants,
  createHash,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { BadParameterError } from '#lib/errors.ts';
import { oaepDecode } from '#lib/keys/hsm/oaep-decode.ts';
import { mgf1 } from '#lib/keys/mgf1.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const K = 256;
const H = 32;

/** What the token's CKM_RSA_X_509 returns: the raw RSA private operation, padding left in place. */
function rawDecrypt(ciphertext: Buffer): Buffer {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
}

/** EME-OAEP-SHA-256 encoding (RFC 8017 7.1.1) of a data block the test controls, so each check can be broken alone. */
function encode(db: Buffer, leading = 0): Buffer {
  const seed = randomBytes(H);
  const maskedDb = xor(db, mgf1(seed, K - H - 1, 'sha256'));
  const maskedSeed = xor(seed, mgf1(maskedDb, H, 'sha256'));
  return Buffer.concat([Buffer.from([leading]), maskedSeed, maskedDb]);
}

function dataBlock(
  message: Buffer,
  change: { labelHash?: Buffer; separator?: number; padding?: number } = {},
) {
  const ps = Buffer.alloc(K - message.length - 2 * H - 2, 0);
  if (change.padding !== undefined && ps.length > 0) ps[Math.floor(ps.length / 2)] = change.padding;
  const labelHash = change.labelHash ?? createHash('sha256').digest();
  return Buffer.concat([labelHash, ps, Buffer.from([change.separator ?? 1]), message]);
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof BadParameterError, String(error));
    return error.message;
  }
  assert.fail('the block was accepted');
}

describe('OAEP-SHA-256 unpadding of a raw RSA result (tokens without OAEP-SHA-256)', () => {
  it('recovers what node:crypto encrypted with RSA-OAEP-256, for every message length up to the limit', () => {
    for (const length of [0, 1, 32, 100, K - 2 * H - 2]) {
      const message = randomBytes(length);
      const ciphertext = publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        message,
      );
      assert.deepEqual(
        oaepDecode(rawDecrypt(ciphertext), 'sha256', 'RSA-OAEP-256'),
        message,
        `length ${length}`,
      );
    }
  });

  it('decodes a block it encoded itself (the test encoder agrees with node)', () => {
    const message = randomBytes(48);
    assert.deepEqual(oaepDecode(encode(dataBlock(message)), 'sha256', 'RSA-OAEP-256'), message);
  });

  it('refuses every kind of bad padding with one and the same message, which names no check', () => {
    const message = randomBytes(16);
    const messages = new Set([
      refusal(() => oaepDecode(encode(dataBlock(message), 1), 'sha256', 'RSA-OAEP-256')),
      refusal(() =>
        oaepDecode(encode(dataBlock(message, { labelHash: randomBytes(H) })), 'sha256', 'RSA-OAEP-256'),
      ),
      refusal(() => oaepDecode(encode(dataBlock(message, { separator: 2 })), 'sha256', 'RSA-OAEP-256')),
      refusal(() => oaepDecode(encode(dataBlock(message, { padding: 7 })), 'sha256', 'RSA-OAEP-256')),
      refusal(() =>
        oaepDecode(
          encode(Buffer.concat([createHash('sha256').digest(), Buffer.alloc(K - H - 1 - H)])),
          'sha256',
          'RSA-OAEP-256',
        ),
      ),
      // Garbage ciphertext (below the modulus): its raw decryption is noise.
      refusal(() =>
        oaepDecode(
          rawDecrypt(Buffer.concat([Buffer.from([0]), randomBytes(K - 1)])),
          'sha256',
          'RSA-OAEP-256',
        ),
      ),
      refusal(() => oaepDecode(Buffer.alloc(2 * H + 1), 'sha256', 'RSA-OAEP-256')),
    ]);
    assert.deepEqual([...messages], ['The ciphertext could not be decrypted with RSA-OAEP-256']);
  });

  it('takes the message after the first 0x01, even when the message itself starts with 0x01 or 0x00', () => {
    for (const message of [Buffer.from([1, 1, 0, 1]), Buffer.from([0, 0, 1]), Buffer.from([1])]) {
      assert.deepEqual(oaepDecode(encode(dataBlock(message)), 'sha256', 'RSA-OAEP-256'), message);
    }
  });
});
