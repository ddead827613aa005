import { createHash } from 'node:crypto';

/** MGF1 (RFC 8017 §B.2.1), for EMSA-PSS (software keys) and EME-OAEP unpadding (HSM keys). */
export function mgf1(seed: Buffer, length: number, hash: 'sha1' | 'sha256' | 'sha384' | 'sha512'): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, produced = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}
