/**
 * ECDSA signature encodings. KMS signs and verifies in the DER form of
 * RFC 3279 (SEQUENCE { INTEGER r, INTEGER s }); JOSE and Key Vault use the
 * raw form r||s, each half left-padded to the curve's size in bytes.
 */

/** Converts a DER ECDSA signature to raw r||s; undefined when it is not a strict, fitting DER signature. */
export function derToRawEcdsa(der: Uint8Array, size: number): Buffer | undefined {
  const bytes = Buffer.from(der);
  if (bytes[0] !== 0x30) return undefined;
  const header = readLength(bytes, 1);
  if (!header || header.offset + header.length !== bytes.length) return undefined;
  const r = readInteger(bytes, header.offset);
  if (!r) return undefined;
  const s = readInteger(bytes, r.next);
  if (!s || s.next !== bytes.length) return undefined;
  if (r.value.length > size || s.value.length > size) return undefined;
  const raw = Buffer.alloc(2 * size);
  r.value.copy(raw, size - r.value.length);
  s.value.copy(raw, 2 * size - s.value.length);
  return raw;
}

/** Converts a raw r||s signature (2 × size bytes) to DER. */
export function rawToDerEcdsa(raw: Buffer, size: number): Buffer {
  if (raw.length !== 2 * size) throw new RangeError(`raw ECDSA signature must be ${2 * size} bytes`);
  const body = Buffer.concat([derInteger(raw.subarray(0, size)), derInteger(raw.subarray(size))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function readLength(bytes: Buffer, at: number): { length: number; offset: number } | undefined {
  const first = bytes[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, offset: at + 1 };
  const count = first & 0x7f;
  if (count < 1 || count > 2 || at + 1 + count > bytes.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = (length << 8) | (bytes[at + 1 + i] ?? 0);
  // DER: the shortest form only.
  if (length < 0x80 || (count === 2 && length < 0x100)) return undefined;
  return { length, offset: at + 1 + count };
}

/** A strict DER INTEGER holding a positive number; value without its sign byte. */
function readInteger(bytes: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (bytes[at] !== 0x02) return undefined;
  const header = readLength(bytes, at + 1);
  if (!header || header.length === 0 || header.offset + header.length > bytes.length) return undefined;
  let value = bytes.subarray(header.offset, header.offset + header.length);
  const lead = value[0] ?? 0;
  if (lead & 0x80) return undefined; // negative
  if (lead === 0 && value.length > 1) {
    if (((value[1] ?? 0) & 0x80) === 0) return undefined; // not minimal
    value = value.subarray(1);
  }
  if (value.length === 1 && value[0] === 0) return undefined; // r and s are never zero
  return { value, next: header.offset + header.length };
}

function derInteger(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  let value = unsigned.subarray(start);
  if ((value[0] ?? 0) & 0x80) value = Buffer.concat([Buffer.from([0]), value]);
  return Buffer.concat([Buffer.from([0x02]), derLength(value.length), value]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}
