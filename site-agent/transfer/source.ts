// The source side of a transfer: `GetManifest` and `ReadChunks`, served to destination agents.
// Chunks are sent as stored (codec byte + payload), ~1 MiB of them per message (`ChunkBatch`); the
// destination verifies each one. At most
// `transfer.maxConcurrent` ReadChunks streams are served at once (scheduler.ts: the n-to-1 limit);
// the others wait in the queue, urgent callers (metadata `brine-priority: urgent`) first. What is
// sent is charged to the site's send bucket (`transfer.bandwidthMiBps`, one for all its outgoing
// streams, separate from the receive bucket): the site's limit bounds both directions.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, toGrpcError } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/logger.js';
import type { ChunkBatch } from '../../src/gen/brine/v1/ChunkBatch.js';
import type { ChunkData } from '../../src/gen/brine/v1/ChunkData.js';
import type { GetManifestRequest__Output } from '../../src/gen/brine/v1/GetManifestRequest.js';
import type { GetManifestResponse } from '../../src/gen/brine/v1/GetManifestResponse.js';
import type { ReadChunksRequest__Output } from '../../src/gen/brine/v1/ReadChunksRequest.js';
import { manifestHashes, MissingChunkError, type SnapshotManifest, type SnapshotStore } from '../snapshot-store/index.js';
import { MESSAGE_BYTES, PRIORITY_METADATA, READ_AHEAD } from './options.js';
import { AbortedError, realClock, TokenBucket, TransferScheduler, type Clock, type Priority } from './scheduler.js';
import { noTransferMetrics, type TransferMetrics } from './metrics-port.js';

export interface ChunkSourceOptions {
  store: SnapshotStore;
  /** how many ReadChunks streams are served at once (config transfer.maxConcurrent) */
  maxConcurrent: number;
  /** sent bytes per second, shared by all its ReadChunks streams (config transfer.bandwidthMiBps) */
  bandwidthMiBps: number;
  logger: Logger;
  clock?: Clock;
  /** the agent's metrics (../metrics.ts); default: none */
  metrics?: TransferMetrics;
}

export class ChunkSource {
  readonly scheduler: TransferScheduler;
  /** what this site sends, all streams together (the fetcher has its own for what it receives) */
  readonly bucket: TokenBucket;
  private readonly store: SnapshotStore;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: TransferMetrics;
  /** bytes sent since start (for logs and tests) */
  bytesSent = 0;
  /** per manifest object (the store caches them): its hash set and its JSON, built once */
  private readonly known = new WeakMap<SnapshotManifest, Set<string>>();
  private readonly manifestJson = new WeakMap<SnapshotManifest, string>();

  constructor(o: ChunkSourceOptions) {
    this.store = o.store;
    this.scheduler = new TransferScheduler(o.maxConcurrent);
    this.clock = o.clock ?? realClock;
    this.bucket = TokenBucket.fromMiBps(o.bandwidthMiBps, this.clock);
    this.log = o.logger;
    this.metrics = o.metrics ?? noTransferMetrics;
  }

  getManifest: grpc.handleUnaryCall<GetManifestRequest__Output, GetManifestResponse> = (call, callback) => {
    (async () => {
      if (!call.request.snapshotId) throw new InvalidArgumentError('snapshotId', 'required');
      const m = await this.store.manifest(call.request.snapshotId); // NotFoundError → NOT_FOUND
      // Serialised once per manifest: a 64 GiB snapshot's is ~60 MB of JSON, asked by every
      // destination (and again by each retry).
      let json = this.manifestJson.get(m);
      if (json === undefined) {
        json = JSON.stringify(m);
        this.manifestJson.set(m, json);
      }
      return { manifestJson: json };
    })().then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toGrpcError(err);
        this.log.warn({ method: 'GetManifest', snapshot: call.request.snapshotId, code: e.code, err: e.details }, 'call failed');
        callback(e);
      },
    );
  };

  readChunks: grpc.handleServerStreamingCall<ReadChunksRequest__Output, ChunkBatch> = (call) => {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort());
    this.serve(call, ac.signal).then(
      () => {
        if (!ac.signal.aborted) call.end();
      },
      (err: unknown) => {
        if (ac.signal.aborted || err instanceof AbortedError) return; // the destination went away or yielded
        const e = toGrpcError(err);
        this.log.warn({ method: 'ReadChunks', snapshot: call.request.snapshotId, code: e.code, err: e.details }, 'call failed');
        call.emit('error', e); // grpc-js: sets the status and ends the call
      },
    );
  };

  /**
   * The snapshot's chunk hashes, built once per manifest object (the store caches manifests), not
   * per `ReadChunks` batch: rebuilding it per batch made a transfer quadratic in snapshot size.
   */
  private async knownHashes(snapshotId: string): Promise<ReadonlySet<string>> {
    const m = await this.store.manifest(snapshotId); // NotFoundError → NOT_FOUND
    let known = this.known.get(m);
    if (!known) {
      known = manifestHashes(m);
      this.known.set(m, known);
    }
    return known;
  }

  private async serve(call: grpc.ServerWritableStream<ReadChunksRequest__Output, ChunkBatch>, signal: AbortSignal): Promise<void> {
    const { snapshotId, hashes } = call.request;
    if (!snapshotId) throw new InvalidArgumentError('snapshotId', 'required');
    // Only chunks of that snapshot: a caller cannot read arbitrary content by guessing hashes.
    const known = await this.knownHashes(snapshotId);
    const bad = hashes.find((h) => !known.has(h));
    if (bad !== undefined) throw new InvalidArgumentError('hashes', `chunk ${bad} is not part of snapshot ${snapshotId}`);
    const priority: Priority = call.metadata.get(PRIORITY_METADATA)[0]?.toString() === 'urgent' ? 'urgent' : 'background';
    const slot = await this.scheduler.acquire(priority, `${snapshotId}@${call.getPeer()}`, signal);
    // Pinned while sent: a collection here must not remove what a destination is reading.
    const release = this.store.hold(hashes);
    const started = this.clock.now();
    let sent = 0;
    let result: 'ok' | 'failed' | 'cancelled' = 'failed';
    try {
      // Read ahead (disk latency overlaps the network), send in order, MESSAGE_BYTES of chunks per
      // message, and stop reading when grpc's buffer is full (write() false → 'drain'): memory
      // stays at READ_AHEAD chunks plus one message.
      const reads: Array<Promise<Buffer>> = [];
      let next = 0;
      const fill = (): void => {
        while (reads.length < READ_AHEAD && next < hashes.length) {
          const h = hashes[next++] as string;
          const p = this.store.readChunkCompressed(h);
          p.catch(() => undefined); // observed below, in order
          reads.push(p);
        }
      };
      let batch: ChunkData[] = [];
      let batchBytes = 0;
      const flush = async (): Promise<boolean> => {
        if (batch.length === 0) return true;
        const msg: ChunkBatch = { chunks: batch };
        batch = [];
        batchBytes = 0;
        if (!call.write(msg)) await drained(call, signal);
        return !signal.aborted;
      };
      for (let i = 0; i < hashes.length; i++) {
        fill();
        const data = await (reads.shift() as Promise<Buffer>).catch((err: unknown) => {
          if (err instanceof MissingChunkError) this.log.error({ snapshot: snapshotId, chunk: hashes[i] }, 'chunk of a snapshot missing from the store');
          throw err;
        });
        if (signal.aborted) return;
        // Charged as it travels (compressed), before it is written. What is already packed goes
        // out first when the bucket would make us wait: a slow link sees a steady stream, not
        // 1 MiB bursts. An abort rejects the wait (handled as a cancel).
        if (this.bucket.delayFor(data.length) > 0 && !(await flush())) return;
        await this.bucket.take(data.length, signal);
        this.bytesSent += data.length;
        sent += data.length;
        this.metrics.bytes('out', priority, data.length);
        batch.push({ hash: hashes[i] as string, data });
        batchBytes += data.length;
        if (batchBytes >= MESSAGE_BYTES && !(await flush())) return;
      }
      await flush();
      result = signal.aborted ? 'cancelled' : 'ok';
    } catch (err) {
      result = signal.aborted || err instanceof AbortedError ? 'cancelled' : 'failed';
      throw err;
    } finally {
      if (signal.aborted && result === 'ok') result = 'cancelled';
      this.metrics.ended('out', priority, result, sent, (this.clock.now() - started) / 1000);
      release();
      slot.release();
    }
  }
}

/** Resolves when grpc's send buffer has room again, or at once on abort. */
function drained(call: grpc.ServerWritableStream<ReadChunksRequest__Output, ChunkBatch>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
