// Cuts a byte stream into chunks: content-defined (FastCDC, gear hash) by default, fixed-size for
// comparison.
//
// Why content-defined, and why 64 KiB. Measured by bench/snapshot-store.bench.ts on two
// `virsh save` images (92.5 MB each) of one running 128 MiB TCG guest (.brine/guest) taken 10 s
// apart. "new" = bytes of the second image in chunks the first did not have. Throughput: chunk +
// SHA-256 on one core; ranges over several runs, because the 2-core machine was shared with other
// people's QEMU guests (load 2–5) — the byte counts are exact and repeatable:
//
//   chunking              mean chunk   new in 2nd image     chunk+hash MB/s
//   fixed 64 KiB             64 KiB    86.9 MB  (93.9 %)       140–520
//   fixed 256 KiB           256 KiB    87.0 MB  (94.1 %)       400–1000
//   fixed 1 MiB               1 MiB    87.3 MB  (94.3 %)       280–780
//   FastCDC avg 16 KiB       22 KiB     3.7 MB  ( 4.0 %)       100–410
//   FastCDC avg 32 KiB       45 KiB     5.1 MB  ( 5.5 %)       165–400
//   FastCDC avg 64 KiB       90 KiB    13.0 MB  (14.1 %)       215–400   <- chosen
//   FastCDC avg 256 KiB     361 KiB    25.0 MB  (27.1 %)       300–420
//
// A save image is libvirt's header (the domain XML) followed by QEMU's migration stream, in which
// every page carries an 8-byte header and a zero page takes 9 bytes instead of 4 KiB. One page that
// turns from zero to non-zero (or back) between two saves shifts everything after it, so at fixed
// offsets nearly every chunk is "new" (57 M of the 92.5 M bytes differ at the same offset) and
// fixed-size chunking deduplicates nothing, at any size. Content-defined boundaries move with the
// data and re-synchronise right after a change.
//
// The size (measured when every chunk was its own file; since issue 9 chunks are records in pack
// files, see pack-writer.ts, so the per-file cost below is gone and a smaller average would cost
// less now — but it changes every boundary, see the end of this comment):
// smaller chunks find more duplicates, but every chunk is a file (create, write, fsync,
// rename), and on this machine creating a file costs ~0.25–0.6 ms of kernel time. The whole store, both
// snapshots (bytes written after compression; first-snapshot time, best of 2):
//   avg 16 KiB: first 4.3 s, second writes 0.46 MB      avg 32 KiB: 2.4 s, 0.79 MB
//   avg 64 KiB: first 1.7 s, second writes 1.40 MB      avg 128 KiB: 1.2 s, 2.21 MB
// 64 KiB keeps the second snapshot at ~3.4 % of the first's bytes (the changed pages are mostly
// compressible) with half the files, fsyncs, transfer messages and `missingChunks` look-ups of
// 32 KiB. Parameters: min 16 KiB, max 256 KiB, normalised chunking level 2 (a harder mask below
// the average, an easier one above), 32-bit gear hash; the mean comes out at ~90 KiB.
//
// The parameters, and the gear table derived from a fixed seed, are part of the store's format:
// changing them changes every chunk boundary, so two sites (or two versions) would stop sharing
// chunks. They are recorded in each manifest (`chunker`), and a new value needs a new `version`.
import { createHash } from 'node:crypto';

export interface ChunkerParams {
  algo: 'fastcdc' | 'fixed';
  /** for 'fastcdc', the bumped value when the table or the cut rule change */
  version: number;
  minSize: number;
  avgSize: number;
  maxSize: number;
}

/** The store's chunking: see the measurements above. */
export const DEFAULT_CHUNKER: ChunkerParams = Object.freeze({
  algo: 'fastcdc',
  version: 1,
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
});

export function fastCdcParams(avgSize: number): ChunkerParams {
  return { algo: 'fastcdc', version: 1, minSize: avgSize / 4, avgSize, maxSize: avgSize * 4 };
}

export function fixedParams(size: number): ChunkerParams {
  return { algo: 'fixed', version: 1, minSize: size, avgSize: size, maxSize: size };
}

/**
 * 256 pseudo-random 32-bit values from SHA-256 of a fixed seed: the same on every site forever.
 * Held as int32 (the same bits): the gear loop then stays in V8's small-integer arithmetic, where
 * the unsigned form (`>>> 0`) made it box numbers above 2^31 (several times slower).
 */
const GEAR: Int32Array = (() => {
  const table = new Uint32Array(256);
  for (let block = 0; block < 32; block++) {
    const digest = createHash('sha256').update(`brine-gear-v1:${block}`).digest();
    for (let j = 0; j < 8; j++) table[block * 8 + j] = digest.readUInt32BE(j * 4);
  }
  return new Int32Array(table.buffer);
})();

/** `bits` one-bits at the top of a 32-bit word (as int32): the top bits of a gear hash depend on the most bytes. */
function topMask(bits: number): number {
  return bits >= 32 ? -1 : ((1 << bits) - 1) << (32 - bits);
}

function validate(p: ChunkerParams): void {
  const ok =
    Number.isInteger(p.minSize) && Number.isInteger(p.avgSize) && Number.isInteger(p.maxSize) &&
    p.minSize > 0 && p.minSize <= p.avgSize && p.avgSize <= p.maxSize &&
    (p.algo === 'fixed' || (p.avgSize & (p.avgSize - 1)) === 0);
  if (!ok) throw new RangeError(`bad chunker parameters ${JSON.stringify(p)}`);
}

/**
 * Incremental chunker: `push` input buffers as they arrive, get back the chunks completed so far;
 * `finish` returns the last one. Holds at most one chunk's worth (≤ maxSize) of pending input, so a
 * stream of any size is cut with bounded memory. Returned chunks may be views of the pushed buffers
 * (no copy when a chunk lies inside one buffer): callers must not reuse pushed buffers.
 */
export class Chunker {
  private readonly params: ChunkerParams;
  private readonly maskS: number;
  private readonly maskL: number;
  private parts: Buffer[] = [];
  /** bytes of the current chunk so far (in `parts`) */
  private len = 0;
  private hash = 0;

  constructor(params: ChunkerParams = DEFAULT_CHUNKER) {
    validate(params);
    this.params = params;
    const bits = Math.round(Math.log2(params.avgSize));
    // Normalised chunking, level 2 (FastCDC paper): a harder mask before the average size and an
    // easier one after it, so chunk sizes cluster around the average.
    this.maskS = topMask(bits + 2);
    this.maskL = topMask(bits - 2);
  }

  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    while (start < buf.length) {
      const cut = this.params.algo === 'fixed' ? this.scanFixed(buf, start) : this.scanCdc(buf, start);
      if (cut < 0) {
        this.parts.push(start === 0 ? buf : buf.subarray(start));
        this.len += buf.length - start;
        break;
      }
      out.push(this.take(buf.subarray(start, cut)));
      start = cut;
    }
    return out;
  }

  finish(): Buffer[] {
    if (this.len === 0) return [];
    return [this.take(Buffer.alloc(0))];
  }

  /** Ends the current chunk with `tail` and resets. */
  private take(tail: Buffer): Buffer {
    let chunk: Buffer;
    if (this.parts.length === 0) chunk = tail;
    else if (tail.length === 0 && this.parts.length === 1) chunk = this.parts[0] as Buffer;
    else chunk = Buffer.concat([...this.parts, tail], this.len + tail.length);
    this.parts = [];
    this.len = 0;
    this.hash = 0;
    return chunk;
  }

  /** Index in `buf` just past the cut point of the current chunk, or -1 if it does not end in `buf`. */
  private scanFixed(buf: Buffer, start: number): number {
    const need = this.params.avgSize - this.len;
    return buf.length - start >= need ? start + need : -1;
  }

  private scanCdc(buf: Buffer, start: number): number {
    const { minSize, avgSize, maxSize } = this.params;
    const { maskS, maskL } = this;
    // Index in `buf` of the byte at chunk position p is `base + p`.
    const base = start - this.len;
    const end = buf.length;
    // The first minSize bytes are skipped unhashed (FastCDC's cut-point skipping: no cut can fall
    // there anyway, and the hash's window is only 32 bytes).
    let i = Math.max(start, base + minSize);
    if (i >= end) return -1;
    let h = this.hash;
    // Before the average size: the harder mask; after it, the easier one.
    const normalEnd = Math.min(end, base + avgSize);
    // int32 arithmetic: the same low 32 bits as the unsigned sum, and `&` reads them the same.
    const gear = GEAR;
    for (; i < normalEnd; i++) {
      h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
      if ((h & maskS) === 0) return i + 1;
    }
    const hardEnd = Math.min(end, base + maxSize);
    for (; i < hardEnd; i++) {
      h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
      if ((h & maskL) === 0) return i + 1;
    }
    if (i === base + maxSize) return i;
    this.hash = h;
    return -1;
  }
}

/** Cuts a whole async stream of buffers into chunks (bounded memory: see Chunker). */
export async function* chunkStream(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  params: ChunkerParams = DEFAULT_CHUNKER,
): AsyncGenerator<Buffer> {
  const chunker = new Chunker(params);
  for await (const piece of source) {
    const buf = typeof piece === 'string' ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    yield* chunker.push(buf);
  }
  yield* chunker.finish();
}
