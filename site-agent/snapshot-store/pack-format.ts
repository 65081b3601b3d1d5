// The bytes of a pack file (issue 9): many chunks appended to one file, with its own index at the
// end, so that a pack is self-describing (no separate index to keep in step with it).
//
//   header   "BRPACK01"                                          8 bytes
//   record   hash (32 bytes, SHA-256 of the plain content) · length (u32 BE) · stored bytes
//            (codec byte + payload, codec.ts), repeated
//   trailer  entry (hash 32 · offset u32 BE · length u32 BE) per record, then
//            count (u32 BE) · CRC-32 of the entries (u32 BE) · "BRPIDX01"
//
// `offset` is that of the stored bytes (after the record header). Records carry their hash and
// length so a pack whose trailer is damaged can still be read by scanning it from the start.
// Pure: encoding and parsing only.
import { crc32 } from 'node:zlib';

export const PACK_MAGIC = Buffer.from('BRPACK01');
export const INDEX_MAGIC = Buffer.from('BRPIDX01');
export const RECORD_HEADER = 36;
const ENTRY = 40;
export const FOOTER = 16;
/** offsets and lengths are u32: a pack is sealed long before this */
export const MAX_PACK_BYTES = 0xffff_ffff;

export interface PackEntry {
  hash: string;
  /** of the stored bytes in the pack */
  offset: number;
  length: number;
}

export function recordHeader(hash: string, length: number): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER);
  b.write(hash, 0, 32, 'hex');
  b.writeUInt32BE(length, 32);
  return b;
}

export function encodeTrailer(entries: readonly PackEntry[]): Buffer {
  const body = Buffer.allocUnsafe(entries.length * ENTRY);
  entries.forEach((e, i) => {
    body.write(e.hash, i * ENTRY, 32, 'hex');
    body.writeUInt32BE(e.offset, i * ENTRY + 32);
    body.writeUInt32BE(e.length, i * ENTRY + 36);
  });
  const footer = Buffer.allocUnsafe(FOOTER);
  footer.writeUInt32BE(entries.length, 0);
  footer.writeUInt32BE(crc32(body), 4);
  INDEX_MAGIC.copy(footer, 8);
  return Buffer.concat([body, footer]);
}

/** The number of entries a footer announces, or an error message. */
export function parseFooter(footer: Buffer, packSize: number): { count: number; crc: number } | string {
  if (footer.length !== FOOTER || !footer.subarray(8).equals(INDEX_MAGIC)) return 'no index at the end of the pack';
  const count = footer.readUInt32BE(0);
  if (PACK_MAGIC.length + count * (RECORD_HEADER + ENTRY) + FOOTER > packSize) return `index announces ${count} entries, more than the pack holds`;
  return { count, crc: footer.readUInt32BE(4) };
}

/** The entries of a trailer's body, checked against its CRC and the pack's bounds; or an error message. */
export function parseEntries(body: Buffer, crc: number, dataEnd: number): PackEntry[] | string {
  if (crc32(body) !== crc) return 'index checksum mismatch';
  const out: PackEntry[] = [];
  for (let off = 0; off + ENTRY <= body.length; off += ENTRY) {
    const e = { hash: body.toString('hex', off, off + 32), offset: body.readUInt32BE(off + 32), length: body.readUInt32BE(off + 36) };
    if (e.offset < PACK_MAGIC.length + RECORD_HEADER || e.offset + e.length > dataEnd) return `index entry ${e.hash} lies outside the pack`;
    out.push(e);
  }
  return out;
}

export function trailerSize(count: number): number {
  return count * ENTRY + FOOTER;
}

/**
 * Walks the records of a pack's bytes from the start (a pack whose trailer is unreadable): stops
 * at the first record that does not fit. Returns what it found.
 */
export function scanRecords(bytes: Buffer): PackEntry[] {
  const out: PackEntry[] = [];
  if (!bytes.subarray(0, PACK_MAGIC.length).equals(PACK_MAGIC)) return out;
  let off = PACK_MAGIC.length;
  while (off + RECORD_HEADER <= bytes.length) {
    const length = bytes.readUInt32BE(off + 32);
    if (length === 0 || off + RECORD_HEADER + length > bytes.length) break;
    out.push({ hash: bytes.toString('hex', off, off + 32), offset: off + RECORD_HEADER, length });
    off += RECORD_HEADER + length;
  }
  return out;
}
