// Compression and verified decompression of chunks in a small pool of worker threads.
//
// Why workers: Node's async zlib (libuv's pool) cost 2–4× the CPU of the synchronous calls on these
// chunks (brotli 1: ~70 MB per CPU-second with 8 chunks in flight, against ~300 synchronously),
// and synchronous calls on the main thread would serialise compression with chunking and hashing
// and block the agent's event loop. In workers the synchronous calls run in parallel with the main
// thread and with each other. Decompression and the hash check of reads run there too, so a
// restore verifies on several cores.
//
// Since issue 9 the whole ingest runs here: a file's 4 MiB blocks go to one worker that keeps the
// chunker's state for that stream (`cutter`) and cuts them, another hashes the chunks (and, while
// most turn out new, compresses them in the same pass: `hashMany`), new ones are compressed as a
// batch (`encodeMany`); a restore verifies runs of chunks read with one pread (`decodeMany`). One
// message per block instead of per chunk: per-chunk postMessage and the main thread's gear loop
// and SHA-256 were what bounded the store before (measured: main thread ~95 % busy, workers ~25 %).
//
// Workers are started on first use and unref'd while idle: an idle pool never keeps a process alive.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkerParams } from './chunker.js';
import type { CodecName, Compression } from './codec.js';

export type CodecRequest =
  | { id: number; op: 'encode'; data: Uint8Array; codec: CodecName; level: number }
  /** size -1: any size */
  | { id: number; op: 'decode'; data: Uint8Array; hash: string; size: number }
  /** the next bytes of stream `stream`: the chunks they complete, back to back (the worker keeps the rest) */
  | { id: number; op: 'cut'; stream: number; data: Uint8Array; final: boolean; params: ChunkerParams }
  /** consecutive chunks: their hashes, and either the plain bytes back or (`encode`) every chunk encoded */
  | { id: number; op: 'hashMany'; data: Uint8Array; sizes: number[]; encode: boolean; codec: CodecName; level: number }
  /** consecutive chunks of `sizes` in `data`: each encoded, answered concatenated with their stored sizes */
  | { id: number; op: 'encodeMany'; data: Uint8Array; sizes: number[]; codec: CodecName; level: number }
  /** stored chunks back to back in `data` (of `sizes`): each decoded and checked; `data` itself is answered */
  | { id: number; op: 'verifyMany'; data: Uint8Array; sizes: number[]; hashes: string[] }
  /** stored chunks at `offsets`/`sizes` in `data`: each decoded and checked, answered concatenated */
  | { id: number; op: 'decodeMany'; data: Uint8Array; offsets: number[]; sizes: number[]; hashes: string[]; plainSizes: number[] };

export type CodecResponse =
  | { id: number; ok: true; data: Uint8Array; sizes?: number[]; hashes?: string[] }
  /** `index`: which chunk of a many-chunk request was bad */
  | { id: number; ok: false; corrupt: boolean; message: string; index?: number };

/** What `cut`, `hashMany` and `encodeMany` answer: chunks back to back in `data`. */
export interface ChunkRun {
  data: Buffer;
  sizes: number[];
  /** `hashMany` only */
  hashes: string[];
}

/** A chunk whose stored bytes do not decode to what its name says (`index`: which, in a many-chunk request). */
export class ChunkProblem extends Error {
  constructor(
    message: string,
    readonly index = -1,
  ) {
    super(message);
  }
}

type Ok = Extract<CodecResponse, { ok: true }>;

interface Slot {
  worker: Worker;
  inflight: Map<number, { resolve: (r: Ok) => void; reject: (e: Error) => void }>;
}

/** A stream being cut into chunks in one worker (the chunker's state lives there). */
export interface Cutter {
  /** the chunks `data` completes (data is handed over) */
  push(data: Uint8Array): Promise<ChunkRun>;
  /** the last chunk; the stream is over */
  finish(): Promise<ChunkRun>;
}

/** A buffer that owns all of its memory can be moved to a worker without a copy. */
function owns(d: Uint8Array): boolean {
  return d.byteOffset === 0 && d.buffer.byteLength === d.byteLength && d.buffer instanceof ArrayBuffer;
}

function run(r: Ok): ChunkRun {
  return { data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength), sizes: r.sizes ?? [], hashes: r.hashes ?? [] };
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
   * Checks that received chunks, stored bytes (codec byte + payload) back to back in `stored`
   * (handed over, and given back as they were), each decode to content whose SHA-256 is its hash:
   * one message to a worker per ~1 MiB received instead of one per chunk. A private copy of just
   * these bytes travels: a chunk received over gRPC is a view into a larger buffer, which a
   * structured clone would copy whole (seen: a quarter of a transfer's time in postMessage).
   * ChunkProblem (with `index`) names the first bad one.
   */
  async verifyMany(stored: Uint8Array, sizes: number[], hashes: string[]): Promise<Buffer> {
    const r = await this.request({ id: 0, op: 'verifyMany', data: own(stored), sizes, hashes }, true);
    return Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  }

  /**
   * Hashes consecutive chunks of `plain` (handed over); with `encode`, answers them encoded (sizes
   * of the stored bytes), else gives the plain bytes back.
   */
  async hashMany(plain: Uint8Array, sizes: number[], encode: boolean, c: Compression): Promise<ChunkRun> {
    return run(await this.request({ id: 0, op: 'hashMany', data: own(plain), sizes, encode, codec: c.codec, level: c.level }, true));
  }

  /** Encodes consecutive chunks of `plain` (handed over) in one worker. */
  async encodeMany(plain: Uint8Array, sizes: number[], c: Compression): Promise<ChunkRun> {
    return run(await this.request({ id: 0, op: 'encodeMany', data: own(plain), sizes, codec: c.codec, level: c.level }, true));
  }

  /**
   * Decodes and checks stored chunks lying in `stored` (handed over) at `offsets`; their plain
   * bytes back to back. ChunkProblem (with `index`) names the first bad one.
   */
  async decodeMany(stored: Uint8Array, offsets: number[], sizes: number[], hashes: string[], plainSizes: number[]): Promise<ChunkRun> {
    return run(await this.request({ id: 0, op: 'decodeMany', data: own(stored), offsets, sizes, hashes, plainSizes }, true));
  }

  /** A new stream to cut with `params`, in the least busy worker (every push goes to that one). */
  cutter(params: ChunkerParams): Cutter {
    const slot = this.pick();
    const stream = this.nextId++;
    const send = async (data: Uint8Array, final: boolean): Promise<ChunkRun> =>
      run(await this.request({ id: 0, op: 'cut', stream, data: own(data), final, params }, true, slot));
    return { push: (data) => send(data, false), finish: () => send(new Uint8Array(0), true) };
  }

  private async call(req: CodecRequest, handOver: boolean): Promise<Buffer> {
    const r = await this.request(req, handOver);
    return Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  }

  private request(req: CodecRequest, handOver: boolean, at?: Slot): Promise<Ok> {
    const slot = at && this.slots.includes(at) ? at : this.pick();
    const id = this.nextId++;
    const d = req.data;
    // A structured clone copies the whole backing store, and costs more than the copy; moving a
    // buffer that owns its memory costs nothing. (Views of shared memory, e.g. Node's 8 KiB pool, are cloned.)
    const move = handOver && owns(d);
    return new Promise<Ok>((resolve, reject) => {
      if (at && slot !== at) {
        reject(new Error('codec worker of this stream is gone'));
        return;
      }
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
      if (msg.ok) t.resolve(msg);
      else t.reject(msg.corrupt ? new ChunkProblem(msg.message, msg.index) : new Error(msg.message));
    });
    worker.on('error', (err) => failAll(err));
    worker.on('exit', (code) => failAll(new Error(`codec worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

/** `d` itself if it owns its memory, else a copy that does (so it can be moved, not cloned). */
function own(d: Uint8Array): Uint8Array {
  return owns(d) ? d : new Uint8Array(d);
}

let pool: CodecPool | undefined;

/** The process's pool: one worker per core, at most 4. */
export function codecPool(): CodecPool {
  pool ??= new CodecPool(Math.min(4, Math.max(1, availableParallelism())));
  return pool;
}
