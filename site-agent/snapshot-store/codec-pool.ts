// Compression and verified decompression of chunks in a small pool of worker threads.
//
// Why workers: Node's async zlib (libuv's pool) cost 2–4× the CPU of the synchronous calls on these
// chunks (brotli 1: ~70 MB per CPU-second with 8 chunks in flight, against ~300 synchronously),
// and synchronous calls on the main thread would serialise compression with chunking and hashing
// and block the agent's event loop. In workers the synchronous calls run in parallel with the main
// thread (which reads, chunks and hashes) and with each other. Decompression and the hash check of
// reads run there too, so a restore verifies on several cores.
//
// Workers are started on first use and unref'd while idle: an idle pool never keeps a process alive.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CodecName, Compression } from './codec.js';

export type CodecRequest =
  | { id: number; op: 'encode'; data: Uint8Array; codec: CodecName; level: number }
  /** size -1: any size */
  | { id: number; op: 'decode'; data: Uint8Array; hash: string; size: number }
  /** decode and check, but answer with the stored bytes themselves (a received chunk, to be written as is) */
  | { id: number; op: 'verify'; data: Uint8Array; hash: string; size: number };

export type CodecResponse = { id: number; ok: true; data: Uint8Array } | { id: number; ok: false; corrupt: boolean; message: string };

/** A chunk whose stored bytes do not decode to what its name says. */
export class ChunkProblem extends Error {}

interface Slot {
  worker: Worker;
  inflight: Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>;
}

const WORKER_URL = new URL('./codec-worker.js', import.meta.url);

/**
 * The parent's Node options minus those a worker refuses or must not repeat: a process started
 * with `node --input-type=module -e …` would otherwise fail to start any worker.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++;
      continue;
    }
    if (/^--(input-type|eval|print)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

export class CodecPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  constructor(private readonly size: number) {}

  /**
   * codec byte + payload, as stored. `handOver`: the caller gives up `plain` (it is moved to the
   * worker without a copy when it owns its memory, and is empty afterwards).
   */
  encode(plain: Uint8Array, c: Compression, handOver = false): Promise<Buffer> {
    return this.call({ id: 0, op: 'encode', data: plain, codec: c.codec, level: c.level }, handOver);
  }

  /** The plain content, checked against `hash` (and `size` unless -1); ChunkProblem if it does not match. */
  decodeVerified(stored: Uint8Array, hash: string, size: number, handOver = false): Promise<Buffer> {
    return this.call({ id: 0, op: 'decode', data: stored, hash, size }, handOver);
  }

  /**
   * Checks that stored bytes (codec byte + payload) decode to content whose SHA-256 is `hash`
   * (ChunkProblem if not), and gives them back. They travel as a private copy of just these bytes,
   * moved both ways: a chunk received over gRPC is a view into a larger buffer, and a structured
   * clone would copy all of that (seen: a quarter of a transfer's time in postMessage).
   */
  verifyStored(stored: Uint8Array, hash: string): Promise<Buffer> {
    return this.call({ id: 0, op: 'verify', data: new Uint8Array(stored), hash, size: -1 }, true);
  }

  private call(req: CodecRequest, handOver: boolean): Promise<Buffer> {
    const slot = this.pick();
    const id = this.nextId++;
    const d = req.data;
    // A structured clone copies the whole backing store, and costs more than the copy; moving a
    // buffer that owns its memory costs nothing. (Views of shared memory, e.g. Node's 8 KiB pool, are cloned.)
    const move = handOver && d.byteOffset === 0 && d.buffer.byteLength === d.byteLength && d.buffer instanceof ArrayBuffer;
    return new Promise<Buffer>((resolve, reject) => {
      slot.inflight.set(id, { resolve, reject });
      if (slot.inflight.size === 1) slot.worker.ref();
      slot.worker.postMessage({ ...req, id }, move ? [d.buffer as ArrayBuffer] : []);
    });
  }

  /** The least busy worker; a new one while the pool is not full and all are busy. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.inflight.size < best.inflight.size) best = s;
    if ((!best || best.inflight.size > 0) && this.slots.length < this.size) best = this.spawn();
    return best as Slot;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { execArgv: workerExecArgv() });
    const slot: Slot = { worker, inflight: new Map() };
    worker.unref();
    const failAll = (err: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const t of slot.inflight.values()) t.reject(err);
      slot.inflight.clear();
    };
    worker.on('message', (msg: CodecResponse) => {
      const t = slot.inflight.get(msg.id);
      if (!t) return;
      slot.inflight.delete(msg.id);
      if (slot.inflight.size === 0) worker.unref();
      if (msg.ok) t.resolve(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
      else t.reject(msg.corrupt ? new ChunkProblem(msg.message) : new Error(msg.message));
    });
    worker.on('error', (err) => failAll(err));
    worker.on('exit', (code) => failAll(new Error(`codec worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

let pool: CodecPool | undefined;

/** The process's pool: one worker per core, at most 4. */
export function codecPool(): CodecPool {
  pool ??= new CodecPool(Math.min(4, Math.max(1, availableParallelism())));
  return pool;
}
