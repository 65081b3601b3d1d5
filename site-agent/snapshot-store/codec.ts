// A chunk's stored bytes (a pack record, pack-format.ts; a chunk file in a format-1 store): one codec byte, then the payload. The codec travels with the chunk, so a
// chunk is sent between sites exactly as stored and a later change of codec needs no migration.
//
// Compression, measured by bench/snapshot-store.bench.ts on the same `virsh save` image as the
// chunker (its 1006 FastCDC chunks, 92.5 MB; synchronous zlib on one core; ranges over runs on a
// shared, loaded machine, sizes exact):
//
//   codec        stored             compress MB/s   decompress MB/s
//   none         92.5 MB (100 %)          -                 -
//   deflate 1    40.5 MB (43.8 %)       25–85            54–190
//   deflate 6    39.4 MB (42.5 %)       31–58           150–325
//   brotli 1     41.7 MB (45.1 %)      176–290          137–213     <- default until issue 9
//   brotli 4     38.9 MB (42.0 %)       34–102           60–221
//
// Issue 9: zstd level 1 (zstd-napi, libzstd bundled and built from source by
// scripts/setup-host.sh) is the default now: ~510 MB/s compress / ~490 MB/s decompress on binary
// data and ~850 MB/s on half-zero pages here, 2–4× brotli 1, at about brotli 1's ratio
// (/work/shared/notes/datapath.md). brotli-1 was ~57 % of ingest CPU. Chunks stored as brotli or
// deflate by older stores keep their codec byte and stay readable.
//
// Memory images halve (zero-ish pages; the rest is kernel and initramfs, much of it already
// compressed). Brotli at quality 1 compresses 3× faster than deflate 1 for 1.3 points of size, and
// compression runs at every checkpoint while the guests run, on 2 cores; decompression (restore)
// is rarer and as fast. Higher levels buy 1–3 points for 2–8× the CPU.
//
// A chunk that does not shrink is stored raw: no decompression on restore for nothing.
import * as zlib from 'node:zlib';
import zstd from 'zstd-napi';

export type CodecName = 'none' | 'deflate' | 'brotli' | 'zstd';

export interface Compression {
  codec: CodecName;
  /** deflate level 1–9, brotli quality 0–11, zstd level -7–22; ignored for 'none' */
  level: number;
}

export const DEFAULT_COMPRESSION: Compression = Object.freeze({ codec: 'zstd', level: 1 });

const enum CodecByte {
  Raw = 0,
  Deflate = 1,
  Brotli = 2,
  Zstd = 3,
}

/** Larger than any chunk the store makes (max 256 KiB): a bound on what a received chunk may inflate to. */
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/** Encodes one chunk (synchronous: run in the codec pool's workers, see codec-pool.ts). */
export function encodeChunkSync(plain: Uint8Array, c: Compression): Buffer {
  let payload: Buffer | undefined;
  let byte = CodecByte.Raw;
  if (c.codec === 'deflate') {
    payload = zlib.deflateRawSync(plain, { level: c.level });
    byte = CodecByte.Deflate;
  } else if (c.codec === 'brotli') {
    payload = zlib.brotliCompressSync(plain, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: c.level,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
      },
    });
    byte = CodecByte.Brotli;
  } else if (c.codec === 'zstd') {
    payload = zstd.compress(plain, { compressionLevel: c.level });
    byte = CodecByte.Zstd;
  }
  if (payload === undefined || payload.length >= plain.length) return Buffer.concat([Buffer.of(CodecByte.Raw), plain]);
  return Buffer.concat([Buffer.of(byte), payload]);
}

/** Decodes a chunk's stored bytes; throws (a plain Error) on an unknown codec or a bad payload. */
export function decodeChunkSync(stored: Uint8Array): Buffer {
  if (stored.length === 0) throw new Error('empty chunk');
  const payload = Buffer.from(stored.buffer, stored.byteOffset + 1, stored.byteLength - 1);
  switch (stored[0]) {
    case CodecByte.Raw:
      return payload;
    case CodecByte.Deflate:
      return zlib.inflateRawSync(payload, { maxOutputLength: MAX_CHUNK_BYTES });
    case CodecByte.Brotli:
      return zlib.brotliDecompressSync(payload, { maxOutputLength: MAX_CHUNK_BYTES });
    case CodecByte.Zstd: {
      // zstd.compress records the content size in the frame; a window above 8 MiB (2^23) is refused
      // before decoding, which bounds the memory a hostile frame can ask for.
      const out = zstd.decompress(payload, { windowLogMax: 23 });
      if (out.length > MAX_CHUNK_BYTES) throw new Error(`zstd chunk inflates to ${out.length} bytes`);
      return out;
    }
    default:
      throw new Error(`unknown codec byte ${stored[0]}`);
  }
}
