/**
 * RSA-OAEP-256 decryption for a token that refuses CKM_RSA_PKCS_OAEP with
 * SHA-256 (SoftHSM2 2.6 allows SHA-1 only): the token performs the raw RSA
 * private operation (CKM_RSA_X_509) and the EME-OAEP padding of its output is
 * checked and removed here, in JavaScript. The private key never leaves the
 * token, but this unpadding is the security-sensitive piece to review: it is
 * written to examine the whole block, without branches on its bytes, and to
 * fail with one and the same error whatever check failed, so that its answers
 * cannot serve as a padding oracle (Manger's attack). JavaScript gives no
 * constant-time guarantee; this is the best a JIT allows, and a token with
 * OAEP-SHA-256 (CloudHSM has it) never takes this path.
 */
import { createHash } from 'node:crypto';
import { BadParameterError } from '#lib/errors.ts';
import { mgf1 } from '#lib/keys/mgf1.ts';
import { HASHES, type HashName } from './pkcs11-mechanisms.ts';

/**
 * EME-OAEP decoding (RFC 8017 7.1.2, empty label) of the output of the raw RSA
 * operation. Every failure is the same error, decided after the whole block
 * was examined, so the answer does not tell which check failed.
 */
export function oaepDecode(encoded: Buffer, hash: HashName, algorithm: string): Buffer {
  const hLen = HASHES[hash].length;
  const k = encoded.length;
  const refused = () => new BadParameterError(`The ciphertext could not be decrypted with ${algorithm}`);
  if (k < 2 * hLen + 2) throw refused();
  const maskedSeed = encoded.subarray(1, 1 + hLen);
  const maskedDb = encoded.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(maskedDb, hLen, hash));
  const db = xor(maskedDb, mgf1(seed, k - hLen - 1, hash));
  const labelHash = createHash(hash).digest();

  let bad = encoded[0] ?? 1;
  for (let i = 0; i < hLen; i++) bad |= (db[i] ?? 0) ^ (labelHash[i] ?? 0);
  // Find the 0x01 after the zero padding without leaving the loop early and
  // without a data-dependent branch: flags are computed with arithmetic
  // (for 0 <= x <= 255, (x - 1) >>> 31 is 1 exactly when x is 0).
  let found = 0;
  let index = 0;
  for (let i = hLen; i < db.length; i++) {
    const byte = db[i] ?? 0;
    const isZero = (byte - 1) >>> 31;
    const isOne = ((byte ^ 1) - 1) >>> 31;
    const first = isOne & (found ^ 1);
    index ^= (index ^ i) & -first;
    // Before the 0x01, anything but 0x00 is bad padding.
    bad |= (found ^ 1) & ((isOne | isZero) ^ 1);
    found |= isOne;
  }
  bad |= found ^ 1;
  if (bad !== 0) throw refused();
  return Buffer.from(db.subarray(index + 1));
}

/**
 * Node may hand a native module a NULL pointer for an empty buffer, which
 * modules refuse (CKR_ARGUMENTS_BAD) without ending the operation; an empty
 * view into a real allocation is a valid pointer with length 0.
 */
export function nonNull(bytes: Buffer): Buffer {
  return bytes.length > 0 ? bytes : Buffer.alloc(1).subarray(0, 0);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
