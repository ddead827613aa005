/**
 * RSAES-PKCS1-v1_5 decoding with implicit rejection, for RSA1_5 decrypt and
 * unwrapKey of software keys: the raw RSA private operation is node's
 * (privateDecrypt with RSA_NO_PADDING, which OpenSSL does with blinding) and
 * the type 2 padding of its output is checked and removed here. An invalid
 * padding is not an error: the answer is then a synthetic message derived
 * from the private exponent and the ciphertext, deterministic for a key and a
 * ciphertext, and indistinguishable from a decryption to whoever does not hold
 * the key. With no error to observe there is no padding oracle (Bleichenbacher,
 * the Marvin attack, CVE-2023-46809).
 *
 * This is the algorithm of OpenSSL 3.2 and later (the condition under which
 * node itself lets RSA_PKCS1_PADDING decrypt): the key derivation key of
 * derive_kdk (crypto/rsa/rsa_ossl.c), the PRF ossl_rsa_prf and the check of
 * ossl_rsa_padding_check_PKCS1_type_2 (crypto/rsa/rsa_pk1.c), as described in
 * the "Implicit rejection" section of draft-irtf-cfrg-rsa-guidance. Outputs are
 * byte for byte those of OpenSSL >= 3.2 for the same key and ciphertext (the
 * unit test checks OpenSSL's published vectors), so a key moved between the two
 * gives the same synthetic answers and does not tell valid from invalid that way.
 *
 * Timing. The work done does not depend on whether the padding is valid: both
 * the synthetic message and the real one are always computed, every byte of
 * the block is examined, flags and indices are combined with arithmetic (no
 * branch and no early exit on the block's bytes), and the final copy reads both
 * candidates for every output byte and picks with a mask. What is not hidden:
 * the length of the answer (which, as in OpenSSL, is not a signal: a synthetic
 * message has a pseudo-random length), and whatever the JIT, the garbage
 * collector and Buffer allocation make of it. JavaScript gives no constant-time
 * guarantee; this is the best a JIT allows, in the style of
 * lib/keys/hsm/oaep-decode.ts. HMAC and SHA-256 are node's (OpenSSL's).
 */
import { createHash, createHmac } from 'node:crypto';

/** OpenSSL's MAX_LEN_GEN_TRIES: 16-bit length candidates drawn from the PRF. */
const LENGTH_CANDIDATES = 128;
const SHA256_LENGTH = 32;

/**
 * SHA-256 of I2OSP(d, k): the HMAC key from which every key derivation key of
 * this RSA key is made (derive_kdk). It is as secret as d; a key computes it
 * once and keeps it, rather than exporting d for each decryption.
 */
export function privateExponentDigest(privateExponent: Buffer, k: number): Buffer {
  // A JWK's d is the minimal big-endian encoding (RFC 7518 6.3.2.1): at most k bytes for a key of k bytes.
  if (privateExponent.length > k) throw new Error('The private exponent is wider than the modulus');
  const padded = Buffer.alloc(k);
  privateExponent.copy(padded, k - privateExponent.length);
  const digest = createHash('sha256').update(padded).digest();
  padded.fill(0);
  return digest;
}

/**
 * Removes the EME-PKCS1-v1_5 padding (RFC 8017 7.2.2) from em, the k-byte
 * output of the raw RSA operation on ciphertext, with implicit rejection: if
 * the padding is invalid, the synthetic message of this key and ciphertext is
 * returned instead of an error. exponentDigest is privateExponentDigest(d, k),
 * as the draft has it; an HSM key, whose d never leaves the token, passes a
 * secret of the same role made there (hsm-key.ts: 32 bytes, fixed for the
 * key and the ciphertext, made only with the private key).
 * Throws only when called wrongly (sizes), never because of the block's content.
 */
export function decodePkcs1v15ImplicitRejection(
  em: Buffer,
  ciphertext: Buffer,
  exponentDigest: Buffer,
): Buffer {
  const k = em.length;
  // Public sizes only: 11 bytes is the least a type 2 block can be; the PRF's bit length is 16 bits.
  if (k < 11 || k * 8 > 0xffff) throw new Error('The encoded message has an unsupported size');
  if (ciphertext.length > k) throw new Error('The ciphertext is longer than the encoded message');
  if (exponentDigest.length !== SHA256_LENGTH) throw new Error('The exponent digest must be 32 bytes');

  const kdk = deriveKdk(exponentDigest, ciphertext, k);
  // The synthetic message: the last synthLength bytes of PRF("message", k bytes).
  const synthetic = prf(kdk, 'message', k);
  const candidates = prf(kdk, 'length', LENGTH_CANDIDATES * 2);
  kdk.fill(0);

  // The longest message: k less 2 bytes (00 02) and 8 bytes of padding (the separator makes it k - 11).
  const maxSeparatorOffset = k - 2 - 8;
  let lengthMask = maxSeparatorOffset;
  lengthMask |= lengthMask >>> 1;
  lengthMask |= lengthMask >>> 2;
  lengthMask |= lengthMask >>> 4;
  lengthMask |= lengthMask >>> 8;
  // The last candidate below maxSeparatorOffset wins; 0 if none (2^-128).
  let synthLength = 0;
  for (let i = 0; i < LENGTH_CANDIDATES * 2; i += 2) {
    const candidate = (((candidates[i] ?? 0) << 8) | (candidates[i + 1] ?? 0)) & lengthMask;
    synthLength = select(lessThan(candidate, maxSeparatorOffset), candidate, synthLength);
  }
  candidates.fill(0);
  const synthIndex = k - synthLength;

  // The real message: 00 02, at least 8 non-zero bytes, 00, the message.
  let good = isZero(em[0] ?? 1) & equals(em[1] ?? 0, 2);
  // The first zero byte after the block type, found without leaving the loop early.
  let found = 0;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const zero = isZero(em[i] ?? 0);
    zeroIndex = select(zero & (found ^ 1), i, zeroIndex);
    found |= zero;
  }
  // Padding of at least 8 bytes; no zero byte leaves zeroIndex at 0, which fails here too.
  good &= greaterOrEqual(zeroIndex, 2 + 8);
  // OpenSSL also rejects a message longer than its output buffer; node gives it k bytes, as here: always fits.

  // Which message is returned is not a branch: an index, and a mask per byte.
  const messageIndex = select(good, zeroIndex + 1, synthIndex);
  const keepReal = -good;
  const out = Buffer.alloc(k - messageIndex);
  for (let i = messageIndex, j = 0; i < k; i++, j++) {
    out[j] = ((em[i] ?? 0) & keepReal) | ((synthetic[i] ?? 0) & ~keepReal);
  }
  synthetic.fill(0);
  return out;
}

/**
 * derive_kdk: HMAC-SHA256 keyed with SHA-256(I2OSP(d, k)) over the ciphertext
 * as k bytes (a shorter ciphertext is taken with its leading zeros, as OpenSSL
 * does).
 */
function deriveKdk(exponentDigest: Buffer, ciphertext: Buffer, k: number): Buffer {
  const hmac = createHmac('sha256', exponentDigest);
  if (ciphertext.length < k) hmac.update(Buffer.alloc(k - ciphertext.length));
  return hmac.update(ciphertext).digest();
}

/**
 * ossl_rsa_prf: HMAC-SHA256(kdk, I2OSP(i, 2) || label || I2OSP(bits, 2)) for
 * i = 0, 1, ..., concatenated and cut to length bytes (bits = 8 * length).
 */
function prf(kdk: Buffer, label: string, length: number): Buffer {
  const out = Buffer.alloc(Math.ceil(length / SHA256_LENGTH) * SHA256_LENGTH);
  const iteration = Buffer.alloc(2);
  const bits = Buffer.alloc(2);
  bits.writeUInt16BE(length * 8);
  const labelBytes = Buffer.from(label, 'latin1');
  for (let i = 0; i * SHA256_LENGTH < length; i++) {
    iteration.writeUInt16BE(i);
    createHmac('sha256', kdk)
      .update(iteration)
      .update(labelBytes)
      .update(bits)
      .digest()
      .copy(out, i * SHA256_LENGTH);
  }
  const result = Buffer.from(out.subarray(0, length));
  out.fill(0);
  return result;
}

// Flags are 0 or 1, computed with arithmetic rather than comparisons that a
// JIT may turn into branches. Arguments are small non-negative integers
// (bytes, or indices below 2^16), so differences never overflow 32 bits.

/** 1 when x (0..255) is 0: x - 1 is negative exactly then. */
function isZero(x: number): number {
  return (x - 1) >>> 31;
}

function equals(a: number, b: number): number {
  return isZero(a ^ b);
}

function lessThan(a: number, b: number): number {
  return (a - b) >>> 31;
}

function greaterOrEqual(a: number, b: number): number {
  return lessThan(a, b) ^ 1;
}

/** flag ? a : b, without a branch. */
function select(flag: number, a: number, b: number): number {
  return b ^ ((a ^ b) & -flag);
}
