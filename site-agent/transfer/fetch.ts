// The destination side of a transfer: `FetchSnapshot` pulls a snapshot from the agent that holds it.
//
//   already complete here?  → `done` at once (idempotent; the source is not even contacted)
//   GetManifest(source)     → UNAVAILABLE if unreachable, NOT_FOUND if the source lacks it
//   store.beginImport(m)    → the chunks still missing (durable: a retry after an interruption or
//                             an agent restart asks only for these)
//   queued                  → waits for a transfer slot (scheduler.ts), urgent first
//   ReadChunks in batches   → ~1 MiB of chunks per message; each message charged to the bandwidth
//                             bucket, its chunks verified at once (one codec worker call) and written
//                             by writeChunksCompressed (DATA_LOSS if one does not match its hash; it
//                             is not stored); bounded memory: HTTP/2 window + WRITE_CONCURRENCY messages
//   store.importManifest(m) → the snapshot exists here; `done`
//
// Several calls for the same snapshot share one transfer (a coordinator that retries while the
// first call still runs gets the same progress). The transfer stops when its last caller goes away
// (cancelled call); what arrived stays, and the next call resumes from there.
import * as grpc from '@grpc/grpc-js';
import { BrineError, fromGrpcError, InvalidArgumentError, NotFoundError, toGrpcError, UnavailableError } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/logger.js';
import { AgentService } from '../../src/shared/proto.js';
import type { AgentServiceClient } from '../../src/gen/brine/v1/AgentService.js';
import type { ChunkBatch__Output } from '../../src/gen/brine/v1/ChunkBatch.js';
import type { FetchSnapshotRequest__Output } from '../../src/gen/brine/v1/FetchSnapshotRequest.js';
import type { TransferProgress } from '../../src/gen/brine/v1/TransferProgress.js';
import { CorruptChunkError, parseManifest, type SnapshotManifest, type SnapshotStore } from '../snapshot-store/index.js';
import { TransferDataError } from './errors.js';
import { BATCH_CHUNKS, PRIORITY_METADATA, PROGRESS_INTERVAL_MS, TRANSFER_CLIENT_OPTIONS, WRITE_CONCURRENCY } from './options.js';
import { AbortedError, RateMeter, realClock, TokenBucket, TransferScheduler, type Clock, type Priority, type Slot } from './scheduler.js';
import { noTransferMetrics, type TransferMetrics } from './metrics-port.js';

export type TransferPhase = 'queued' | 'transferring' | 'done';

/** What `FetchSnapshot` streams. Bytes are the plain sizes of the chunks that must travel. */
export interface Progress {
  snapshotId: string;
  bytesDone: number;
  bytesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  rateBps: number;
  done: boolean;
  phase: TransferPhase;
}

export interface FetchInput {
  snapshotId: string;
  source: string;
  /** the coordinator's ticket, shown to the source with every read */
  ticket?: string;
  urgent: boolean;
  jobId?: string;
  operationId?: string;
}

export interface FetchResult extends Progress {
  /** compressed bytes received (what the link carried) */
  wireBytes: number;
}

export interface SnapshotFetcherOptions {
  store: SnapshotStore;
  /** transfers this agent runs at once as destination (config transfer.maxConcurrent) */
  maxConcurrent: number;
  /** received bytes per second, shared by its transfers (config transfer.bandwidthMiBps) */
  bandwidthMiBps: number;
  logger: Logger;
  clock?: Clock;
  /** received messages verified and written at once (default WRITE_CONCURRENCY) */
  writeConcurrency?: number;
  /** client factory (tests); default: a dedicated channel per transfer */
  connect?: (address: string) => AgentServiceClient;
  /** the agent's metrics (../metrics.ts); default: none */
  metrics?: TransferMetrics;
}

interface Running {
  input: FetchInput;
  progress: Progress;
  listeners: Set<(p: Progress) => void>;
  ac: AbortController;
  result: Promise<FetchResult>;
  promote(): void;
}

const MANIFEST_DEADLINE_MS = 15_000;

export class SnapshotFetcher {
  readonly scheduler: TransferScheduler;
  readonly bucket: TokenBucket;
  private readonly store: SnapshotStore;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly connect: (address: string) => AgentServiceClient;
  private readonly running = new Map<string, Running>();
  private readonly writeConcurrency: number;
  private readonly metrics: TransferMetrics;

  constructor(o: SnapshotFetcherOptions) {
    this.metrics = o.metrics ?? noTransferMetrics;
    this.store = o.store;
    this.log = o.logger;
    this.clock = o.clock ?? realClock;
    this.writeConcurrency = o.writeConcurrency ?? WRITE_CONCURRENCY;
    this.scheduler = new TransferScheduler(o.maxConcurrent);
    this.bucket = TokenBucket.fromMiBps(o.bandwidthMiBps, this.clock);
    this.connect = o.connect ?? ((address) => new AgentService(address, grpc.credentials.createInsecure(), TRANSFER_CLIENT_OPTIONS));
  }

  /** Transfers in progress here (for status and logs). */
  active(): Progress[] {
    return [...this.running.values()].map((r) => ({ ...r.progress }));
  }

  /**
   * Fetches a snapshot from `input.source` into this store; `onProgress` is called at most every
   * PROGRESS_INTERVAL_MS and once with `done`. Aborting `signal` detaches this caller; the transfer
   * stops when no caller is left (resumable).
   */
  async fetch(input: FetchInput, onProgress: (p: Progress) => void = () => undefined, signal?: AbortSignal): Promise<FetchResult> {
    if (!input.snapshotId) throw new InvalidArgumentError('snapshotId', 'required');
    if (!input.source) throw new InvalidArgumentError('source', 'required (host:port of the agent that holds the snapshot)');
    let r = this.running.get(input.snapshotId);
    if (r) {
      if (input.urgent && !r.input.urgent) r.promote();
    } else {
      r = this.start(input);
    }
    const run = r;
    run.listeners.add(onProgress);
    onProgress({ ...run.progress });
    const detach = (): void => {
      run.listeners.delete(onProgress);
      if (run.listeners.size === 0) run.ac.abort();
    };
    if (signal?.aborted) detach();
    signal?.addEventListener('abort', detach, { once: true });
    try {
      return await run.result;
    } finally {
      signal?.removeEventListener('abort', detach);
      run.listeners.delete(onProgress);
    }
  }

  private start(input: FetchInput): Running {
    const ac = new AbortController();
    const progress: Progress = { snapshotId: input.snapshotId, bytesDone: 0, bytesTotal: 0, chunksDone: 0, chunksTotal: 0, rateBps: 0, done: false, phase: 'queued' };
    const r: Running = {
      input: { ...input },
      progress,
      listeners: new Set(),
      ac,
      result: Promise.resolve() as unknown as Promise<FetchResult>,
      promote: () => {
        r.input.urgent = true;
        this.scheduler.promote(input.snapshotId);
      },
    };
    r.result = this.run(r).finally(() => this.running.delete(input.snapshotId));
    r.result.catch(() => undefined); // each caller observes it
    this.running.set(input.snapshotId, r);
    return r;
  }

  private emit(r: Running, force = false, meter?: RateMeter): void {
    if (meter) r.progress.rateBps = meter.rateBps(r.progress.bytesDone);
    if (!force && meter && !meter.due()) return;
    for (const l of r.listeners) l({ ...r.progress });
  }

  private async run(r: Running): Promise<FetchResult> {
    const { snapshotId, source } = r.input;
    const signal = r.ac.signal;
    const log = this.log.child({ job: r.input.jobId || undefined, snapshot: snapshotId, source, operationId: r.input.operationId || undefined });
    const finish = (wireBytes: number): FetchResult => {
      r.progress.done = true;
      r.progress.phase = 'done';
      this.emit(r, true);
      return { ...r.progress, wireBytes };
    };
    if (await this.completeHere(snapshotId)) {
      log.info({}, 'snapshot already here: nothing to fetch');
      return finish(0);
    }
    const client = this.connect(source);
    let slot: Slot | undefined;
    let started: number | undefined;
    let wireBytes = 0;
    const ended = (result: 'ok' | 'failed' | 'cancelled'): void => {
      const seconds = started === undefined ? 0 : (this.clock.now() - started) / 1000;
      this.metrics.ended('in', r.input.urgent ? 'urgent' : 'background', result, wireBytes, seconds);
    };
    try {
      const manifest = await this.getManifest(client, snapshotId, source, r.input.ticket);
      const missing = await this.store.beginImport(manifest);
      const sizes = new Map<string, number>();
      for (const f of manifest.files) for (const c of f.chunks) sizes.set(c.hash, c.size);
      r.progress.chunksTotal = missing.length;
      r.progress.bytesTotal = missing.reduce((s, h) => s + (sizes.get(h) ?? 0), 0);
      log.info({ chunks: sizes.size, missing: missing.length, bytes: r.progress.bytesTotal, urgent: r.input.urgent }, 'transfer queued');
      this.emit(r, true);

      const priority = (): Priority => (r.input.urgent ? 'urgent' : 'background');
      slot = await this.scheduler.acquire(priority(), snapshotId, signal);
      started = this.clock.now();
      r.progress.phase = 'transferring';
      const meter = new RateMeter(this.clock, PROGRESS_INTERVAL_MS);
      this.emit(r, true, meter);
      // A cursor over `missing`, not slices of it: copying the rest per batch was quadratic in
      // snapshot size. `retry`: chunks of the last batch not received (it yielded).
      let cursor = 0;
      let retry: string[] = [];
      while (retry.length > 0 || cursor < missing.length) {
        const take = Math.max(0, BATCH_CHUNKS - retry.length);
        const batch = retry.concat(missing.slice(cursor, cursor + take));
        cursor = Math.min(missing.length, cursor + take);
        const got = await this.readBatch(client, r, batch, sizes, slot, priority(), meter);
        wireBytes += got.wireBytes;
        retry = got.received.size === batch.length ? [] : batch.filter((h) => !got.received.has(h));
        if (got.yielded && (retry.length > 0 || cursor < missing.length)) {
          // An urgent transfer waits: give the slot up, keep our turn among background ones.
          log.info({ remaining: retry.length + missing.length - cursor }, 'background transfer yields to an urgent one');
          slot.release();
          slot = undefined;
          r.progress.phase = 'queued';
          this.emit(r, true, meter);
          slot = await this.scheduler.acquire(priority(), snapshotId, signal, true);
          r.progress.phase = 'transferring';
          this.emit(r, true, meter);
        }
      }
      await this.store.importManifest(manifest);
      const result = finish(wireBytes);
      ended('ok');
      log.info({ bytes: result.bytesDone, wireBytes, chunks: result.chunksDone, rateMiBps: +(result.rateBps / 1048576).toFixed(1) }, 'snapshot fetched');
      return result;
    } catch (err) {
      if (signal.aborted || err instanceof AbortedError) {
        ended('cancelled');
        log.info({ chunksDone: r.progress.chunksDone, chunksTotal: r.progress.chunksTotal }, 'transfer stopped (no caller left); it resumes on the next FetchSnapshot');
        throw new BrineError('UNAVAILABLE', `transfer of snapshot ${snapshotId} was cancelled`);
      }
      ended('failed');
      log.warn({ err: (err as Error).message, chunksDone: r.progress.chunksDone, chunksTotal: r.progress.chunksTotal }, 'transfer failed; what arrived is kept for a retry');
      throw err;
    } finally {
      slot?.release();
      client.close();
    }
  }

  private async completeHere(id: string): Promise<boolean> {
    try {
      await this.store.manifest(id);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError || (err instanceof BrineError && err.code === 'NOT_FOUND')) return false;
      throw err;
    }
  }

  private getManifest(client: AgentServiceClient, snapshotId: string, source: string, ticket = ''): Promise<SnapshotManifest> {
    return new Promise((resolve, reject) => {
      client.getManifest({ snapshotId, ticket }, { deadline: Date.now() + MANIFEST_DEADLINE_MS }, (err, res) => {
        if (err) return reject(sourceError(err, source, snapshotId));
        try {
          const m = parseManifest(JSON.parse(res?.manifestJson ?? ''), `manifest of ${snapshotId} from ${source}`);
          if (m.id !== snapshotId) throw new Error(`it names snapshot ${m.id}`);
          resolve(m);
        } catch (e) {
          reject(new TransferDataError(source, '', `manifest of snapshot ${snapshotId} is invalid: ${(e as Error).message}`, e));
        }
      });
    });
  }

  /** One ReadChunks stream: verifies and stores each chunk; stops early to yield the slot. */
  private async readBatch(
    client: AgentServiceClient,
    r: Running,
    batch: string[],
    sizes: ReadonlyMap<string, number>,
    slot: Slot,
    priority: Priority,
    meter: RateMeter,
  ): Promise<{ received: Set<string>; wireBytes: number; yielded: boolean }> {
    const { snapshotId, source } = r.input;
    const signal = r.ac.signal;
    const md = new grpc.Metadata();
    md.set(PRIORITY_METADATA, priority);
    const call = client.readChunks({ snapshotId, hashes: batch, ticket: r.input.ticket ?? '' }, md);
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    const wanted = new Set(batch);
    const received = new Set<string>();
    /** handed to the store, not yet confirmed (a duplicate in the stream is the source's error) */
    const pending = new Set<string>();
    const writes = new Set<Promise<void>>();
    let failure: unknown;
    let wireBytes = 0;
    let yielded = false;
    let cancelledByUs = false;
    try {
      reading: for await (const msg of call as AsyncIterable<ChunkBatch__Output>) {
        if (failure !== undefined) break;
        let bytes = 0;
        for (const { hash, data } of msg.chunks) {
          if (!wanted.has(hash) || received.has(hash) || pending.has(hash)) {
            failure = new TransferDataError(source, hash, `chunk ${hash} was not asked for`);
            break reading;
          }
          pending.add(hash);
          bytes += data.length;
        }
        // Charged before it is written: a transfer out of tokens stops reading, and the HTTP/2
        // window then stops the sender (no unbounded buffering anywhere).
        await this.bucket.take(bytes, signal);
        wireBytes += bytes;
        this.metrics.bytes('in', priority, bytes);
        const chunks = msg.chunks;
        const w = this.store.writeChunksCompressed(chunks).then(
          () => {
            for (const { hash } of chunks) {
              received.add(hash);
              r.progress.bytesDone += sizes.get(hash) ?? 0;
            }
            r.progress.chunksDone += chunks.length;
            this.emit(r, false, meter);
          },
          (err: unknown) => {
            failure ??= err instanceof CorruptChunkError ? new TransferDataError(source, err.chunk, err.message, err) : err;
          },
        );
        const tracked = w.finally(() => writes.delete(tracked));
        writes.add(tracked);
        if (writes.size >= this.writeConcurrency) await Promise.race(writes);
        // Checked per message (~1 MiB): the rest of a message that was cut short is asked again.
        if (slot.shouldYield()) {
          yielded = true;
          break;
        }
      }
    } catch (err) {
      if (!signal.aborted) failure ??= sourceError(err, source, snapshotId);
    } finally {
      if (yielded || failure !== undefined) {
        cancelledByUs = true;
        call.cancel();
      }
      signal.removeEventListener('abort', onAbort);
      await Promise.all(writes);
    }
    if (signal.aborted) throw new AbortedError(`transfer of ${snapshotId}`);
    if (failure !== undefined) throw failure;
    if (!yielded && !cancelledByUs && received.size < batch.length) {
      throw new TransferDataError(source, batch.find((h) => !received.has(h)) ?? '', `the source ended the stream after ${received.size} of ${batch.length} chunks`);
    }
    return { received, wireBytes, yielded };
  }
}

/** A gRPC error from the source agent → what the coordinator should understand. */
function sourceError(err: unknown, source: string, snapshotId: string): BrineError {
  if (err instanceof BrineError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  const details = typeof err === 'object' && err !== null && 'details' in err ? String((err as { details: unknown }).details) : String(err);
  switch (code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED: // the source went away mid-stream (we cancel only after deciding to)
      return new UnavailableError(`source agent ${source} is unreachable: ${details}`, err);
    case grpc.status.NOT_FOUND:
      return new BrineError('NOT_FOUND', `snapshot ${snapshotId} not found at source ${source}: ${details}`);
    case grpc.status.DATA_LOSS:
      return new TransferDataError(source, '', details, err);
    case grpc.status.INTERNAL:
      // grpc-js reports a connection reset mid-stream as INTERNAL ("Received RST_STREAM…")
      if (/RST_STREAM|ECONNRESET|socket|connection/i.test(details)) return new UnavailableError(`source agent ${source} went away: ${details}`, err);
      return fromGrpcError(err, source);
    default:
      return fromGrpcError(err, source);
  }
}

/** The FetchSnapshot handler over a fetcher. */
export function fetchSnapshotHandler(fetcher: SnapshotFetcher, log: Logger): grpc.handleServerStreamingCall<FetchSnapshotRequest__Output, TransferProgress> {
  return (call) => {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort());
    const req = call.request;
    fetcher
      .fetch(
        { snapshotId: req.snapshotId, source: req.source, urgent: req.urgent, jobId: req.jobId, operationId: req.operationId, ticket: req.ticket },
        (p) => {
          if (!ac.signal.aborted) call.write(p);
        },
        ac.signal,
      )
      .then(
        () => {
          if (!ac.signal.aborted) call.end();
        },
        (err: unknown) => {
          if (ac.signal.aborted) return;
          const e = toGrpcError(err);
          log.warn({ method: 'FetchSnapshot', job: req.jobId, snapshot: req.snapshotId, source: req.source, code: e.code, err: e.details }, 'call failed');
          call.emit('error', e);
        },
      );
  };
}
