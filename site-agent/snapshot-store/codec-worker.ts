// A codec pool worker (codec-pool.ts): compresses chunks, or decompresses and verifies them,
// synchronously, off the main thread.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { decodeChunkSync, encodeChunkSync } from './codec.js';
import type { CodecRequest, CodecResponse } from './codec-pool.js';

const port = parentPort;
if (!port) throw new Error('codec-worker.js runs as a worker thread');

function reply(msg: CodecResponse, data?: Uint8Array): void {
  // Hand the bytes over without a copy when they own their memory (most chunks); a view into a
  // shared allocation is copied by the structured clone instead.
  const own = data !== undefined && data.byteOffset === 0 && data.buffer.byteLength === data.byteLength && data.buffer instanceof ArrayBuffer;
  port?.postMessage(msg, own ? [data.buffer as ArrayBuffer] : []);
}

port.on('message', (req: CodecRequest) => {
  try {
    if (req.op === 'encode') {
      const out = encodeChunkSync(req.data, { codec: req.codec, level: req.level });
      reply({ id: req.id, ok: true, data: out }, out);
      return;
    }
    let plain: Buffer;
    try {
      plain = decodeChunkSync(req.data);
    } catch (err) {
      reply({ id: req.id, ok: false, corrupt: true, message: `cannot decode: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (req.size >= 0 && plain.length !== req.size) {
      reply({ id: req.id, ok: false, corrupt: true, message: `${plain.length} bytes, expected ${req.size}` });
      return;
    }
    const got = createHash('sha256').update(plain).digest('hex');
    if (got !== req.hash) {
      reply({ id: req.id, ok: false, corrupt: true, message: `content hashes to ${got}` });
      return;
    }
    if (req.op === 'verify') reply({ id: req.id, ok: true, data: req.data }, req.data);
    else reply({ id: req.id, ok: true, data: plain }, plain);
  } catch (err) {
    reply({ id: req.id, ok: false, corrupt: false, message: err instanceof Error ? err.message : String(err) });
  }
});
