// A codec pool worker (codec-pool.ts): cuts streams into chunks and hashes them, compresses chunks,
// or decompresses and verifies them, synchronously, off the main thread.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { Chunker } from './chunker.js';
import { decodeChunkSync, encodeChunkSync } from './codec.js';
import type { CodecRequest, CodecResponse } from './codec-pool.js';

const port = parentPort;
if (!port) throw new Error('codec-worker.js runs as a worker thread');

/** streams being cut here (the chunker keeps the bytes of the chunk not yet complete) */
const streams = new Map<number, Chunker>();

function reply(msg: CodecResponse, data?: Uint8Array): void {
  // Hand the bytes over without a copy when they own their memory (most chunks); a view into a
  // shared allocation is copied by the structured clone instead.
  const own = data !== undefined && data.byteOffset === 0 && data.buffer.byteLength === data.byteLength && data.buffer instanceof ArrayBuffer;
  port?.postMessage(msg, own ? [data.buffer as ArrayBuffer] : []);
}

const view = (d: Uint8Array): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** Chunks back to back in one buffer of their own (moved to the main thread without a copy). */
function concat(parts: Buffer[]): Buffer {
  const out = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) off += p.copy(out, off);
  return out;
}

/** The plain content of stored bytes, checked; a string says what is wrong. */
function check(stored: Uint8Array, hash: string, size: number): Buffer | string {
  let plain: Buffer;
  try {
    plain = decodeChunkSync(stored);
  } catch (err) {
    return `cannot decode: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (size >= 0 && plain.length !== size) return `${plain.length} bytes, expected ${size}`;
  const got = createHash('sha256').update(plain).digest('hex');
  return got === hash ? plain : `content hashes to ${got}`;
}

function handle(req: CodecRequest): void {
  switch (req.op) {
    case 'encode': {
      const out = encodeChunkSync(req.data, { codec: req.codec, level: req.level });
      reply({ id: req.id, ok: true, data: out }, out);
      return;
    }
    case 'encodeMany': {
      const parts: Buffer[] = [];
      let off = 0;
      for (const size of req.sizes) {
        parts.push(encodeChunkSync(req.data.subarray(off, off + size), { codec: req.codec, level: req.level }));
        off += size;
      }
      const out = concat(parts);
      reply({ id: req.id, ok: true, data: out, sizes: parts.map((p) => p.length) }, out);
      return;
    }
    case 'cut': {
      let chunker = streams.get(req.stream);
      if (!chunker) {
        chunker = new Chunker(req.params);
        streams.set(req.stream, chunker);
      }
      const parts = req.data.length > 0 ? chunker.push(view(req.data)) : [];
      if (req.final) {
        parts.push(...chunker.finish());
        streams.delete(req.stream);
      }
      const out = concat(parts);
      reply({ id: req.id, ok: true, data: out, sizes: parts.map((p) => p.length) }, out);
      return;
    }
    case 'hashMany': {
      const hashes: string[] = [];
      const encoded: Buffer[] = [];
      let off = 0;
      for (const size of req.sizes) {
        const chunk = req.data.subarray(off, off + size);
        off += size;
        hashes.push(createHash('sha256').update(chunk).digest('hex'));
        if (req.encode) encoded.push(encodeChunkSync(chunk, { codec: req.codec, level: req.level }));
      }
      if (!req.encode) {
        reply({ id: req.id, ok: true, data: req.data, sizes: req.sizes, hashes }, req.data);
        return;
      }
      const out = concat(encoded);
      reply({ id: req.id, ok: true, data: out, sizes: encoded.map((p) => p.length), hashes }, out);
      return;
    }
    case 'verifyMany': {
      let off = 0;
      for (let i = 0; i < req.hashes.length; i++) {
        const size = req.sizes[i] as number;
        const r = check(req.data.subarray(off, off + size), req.hashes[i] as string, -1);
        if (typeof r === 'string') {
          reply({ id: req.id, ok: false, corrupt: true, message: r, index: i });
          return;
        }
        off += size;
      }
      reply({ id: req.id, ok: true, data: req.data }, req.data);
      return;
    }
    case 'decodeMany': {
      const parts: Buffer[] = [];
      for (let i = 0; i < req.hashes.length; i++) {
        const off = req.offsets[i] as number;
        const r = check(req.data.subarray(off, off + (req.sizes[i] as number)), req.hashes[i] as string, req.plainSizes[i] as number);
        if (typeof r === 'string') {
          reply({ id: req.id, ok: false, corrupt: true, message: r, index: i });
          return;
        }
        parts.push(r);
      }
      const out = concat(parts);
      reply({ id: req.id, ok: true, data: out, sizes: parts.map((p) => p.length) }, out);
      return;
    }
    default: {
      const r = check(req.data, req.hash, req.size);
      if (typeof r === 'string') reply({ id: req.id, ok: false, corrupt: true, message: r });
      else reply({ id: req.id, ok: true, data: r }, r);
    }
  }
}

port.on('message', (req: CodecRequest) => {
  try {
    handle(req);
  } catch (err) {
    reply({ id: req.id, ok: false, corrupt: false, message: err instanceof Error ? err.message : String(err) });
  }
});
