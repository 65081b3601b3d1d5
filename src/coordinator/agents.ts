// The coordinator's side of the agent API (the network edge): one gRPC client per agent address.
import * as grpc from '@grpc/grpc-js';
import { AgentService, CLIENT_OPTIONS, type ClusterSpec, type ClusterStatus, type Snapshot } from '../shared/proto.js';
import { fromGrpcError, UnavailableError } from '../shared/errors.js';
import { clientCredentials, TLS_CLIENT_OPTIONS, type Transport } from '../shared/tls.js';
import { TicketSigner } from '../shared/ticket.js';
import { EPOCH_KEY, GRID_ID_KEY } from '../shared/grid.js';
import type { AgentServiceClient } from '../gen/brine/v1/AgentService.js';
import type { PruneSnapshotsResponse__Output as PruneSnapshotsResponse } from '../gen/brine/v1/PruneSnapshotsResponse.js';
import type { TransferProgress__Output as TransferProgress } from '../gen/brine/v1/TransferProgress.js';
import type { ConsoleChunk__Output as ConsoleChunk } from '../gen/brine/v1/ConsoleChunk.js';
import type { OutputChunk__Output as OutputChunk } from '../gen/brine/v1/OutputChunk.js';

export type { TransferProgress };

export interface FetchRequest {
  operationId: string;
  snapshotId: string;
  jobId: string;
  /** host:port of the agent that holds the snapshot */
  source: string;
  urgent: boolean;
}

export type SnapshotKind = 'checkpoint' | 'suspend';

export interface ConsoleRequest {
  jobId: string;
  vm: string;
  offset: number;
  follow: boolean;
}

export type { ConsoleChunk, OutputChunk };

/** `keepConsolesForMs`, `keepOutputForMs` > 0: the job ended; its consoles and output disks are kept that long. */
export interface DestroyOptions {
  keepConsolesForMs?: number;
  keepOutputForMs?: number;
}

export interface AgentGateway {
  deploy(address: string, operationId: string, cluster: ClusterSpec): Promise<ClusterStatus>;
  destroy(address: string, operationId: string, jobId: string, opts?: DestroyOptions): Promise<ClusterStatus>;
  /**
   * Streams a VM's console from the agent at `address` into `onChunk` until it ends (the VM no
   * longer runs there, when following) or `signal` aborts (then it resolves).
   */
  readConsole?(address: string, req: ConsoleRequest, onChunk: (c: ConsoleChunk) => void, signal: AbortSignal): Promise<void>;
  /**
   * Streams the files of an ended job's kept output disks into `onChunk`; a promise from it holds
   * the stream until it settles (the reader's backpressure). Resolves at the end or when aborted.
   */
  readOutput?(address: string, req: { jobId: string; vm: string }, onChunk: (c: OutputChunk) => Promise<void> | void, signal: AbortSignal): Promise<void>;
  takeSnapshot(address: string, operationId: string, jobId: string, snapshotId: string, kind: SnapshotKind): Promise<Snapshot>;
  restore(address: string, operationId: string, cluster: ClusterSpec, snapshotId: string): Promise<ClusterStatus>;
  pruneSnapshots(address: string, jobId: string, keep: number): Promise<string[]>;
  /**
   * Asks the agent at `address` (the destination) to pull a snapshot from `req.source`; resolves
   * with the last progress once the snapshot is complete in the destination's store.
   */
  fetchSnapshot(address: string, req: FetchRequest, onProgress?: (p: TransferProgress) => void): Promise<TransferProgress>;
  /**
   * An agent (re)registered at `address`: the next call dials it afresh. A channel that failed
   * while the agent was away sits in reconnect backoff and would fail calls at once (seen: a job
   * redeployed on a site that came back used up its deploy attempts within a second).
   */
  reconnect(address: string): void;
  /**
   * Cancels the job's transfers in flight (a cancelled job, issue 11 point 6): each destination
   * aborts its fetch; the fetchSnapshot promises reject. Returns how many were cancelled.
   */
  abortFetches?(jobId: string): number;
  close(): void;
}

/** Deadlines: snapshots and restores of real VMs move hundreds of MiB per VM. */
const TIMEOUT_MS = { deploy: 120_000, destroy: 60_000, snapshot: 600_000, restore: 600_000, prune: 60_000, fetch: 3_600_000 };

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;

export class GrpcAgentGateway implements AgentGateway {
  private readonly clients = new Map<string, AgentServiceClient>();
  private readonly credentials: grpc.ChannelCredentials;
  /** signs snapshot tickets with the coordinator's key (none under --insecure) */
  private readonly signer: TicketSigner | undefined;
  /** agent address → its site's name (as its certificate says: Register checks it) */
  private readonly sites = new Map<string, string>();
  /** FetchSnapshot calls in flight, by job */
  private readonly fetches = new Map<string, Set<grpc.ClientReadableStream<TransferProgress>>>();

  /** Agents must present a site certificate of the grid CA (the site's name is checked at Register). */
  private metadata = new grpc.Metadata();

  constructor(transport: Transport) {
    this.credentials = clientCredentials(transport, { roles: ['site'] });
    this.signer = transport.kind === 'tls' ? new TicketSigner(transport.tls.key, transport.tls.cert) : undefined;
  }

  /** Site `site` registered at `address`: transfers to that address get tickets naming it. */
  learn(address: string, site: string): void {
    this.sites.set(address, site);
  }

  private client(address: string): AgentServiceClient {
    let client = this.clients.get(address);
    if (!client) {
      // its own subchannel pool: `reconnect` must give a fresh connection, not the shared pool's
      // subchannel still in backoff from when the agent was away
      client = new AgentService(address, this.credentials, { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS, 'grpc.use_local_subchannel_pool': 1 });
      this.clients.set(address, client);
    }
    return client;
  }

  /** Every call from now on carries this grid id and epoch (agents refuse another grid or an older epoch). */
  setIdentity(grid: { gridId: string; epoch: number }): void {
    const md = new grpc.Metadata();
    md.set(GRID_ID_KEY, grid.gridId);
    md.set(EPOCH_KEY, String(grid.epoch));
    this.metadata = md;
  }

  private call<T>(address: string, timeoutMs: number, invoke: (c: AgentServiceClient, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback<T>) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      invoke(this.client(address), this.metadata.clone(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err || res === undefined ? reject(fromGrpcError(err, address)) : resolve(res),
      );
    });
  }

  deploy(address: string, operationId: string, cluster: ClusterSpec): Promise<ClusterStatus> {
    return this.call(address, TIMEOUT_MS.deploy, (c, m, o, cb) => c.DeployCluster({ operationId, cluster }, m, o, cb));
  }

  destroy(address: string, operationId: string, jobId: string, opts: DestroyOptions = {}): Promise<ClusterStatus> {
    const keepConsolesForMs = opts.keepConsolesForMs ?? 0;
    const keepOutputForMs = opts.keepOutputForMs ?? 0;
    return this.call(address, TIMEOUT_MS.destroy, (c, m, o, cb) => c.DestroyCluster({ operationId, jobId, keepConsolesForMs, keepOutputForMs }, m, o, cb));
  }

  readOutput(address: string, req: { jobId: string; vm: string }, onChunk: (c: OutputChunk) => Promise<void> | void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // no deadline: it lasts as long as the copy does (the reader's pace)
      const call = this.client(address).ReadOutput(req, this.metadata.clone());
      let failed: unknown;
      const abort = (): void => call.cancel();
      signal.addEventListener('abort', abort, { once: true });
      call.on('data', (c: OutputChunk) => {
        const held = onChunk(c);
        if (!held) return;
        call.pause();
        held.then(
          () => call.resume(),
          (err: unknown) => {
            failed = err;
            call.cancel();
          },
        );
      });
      call.on('error', (err: grpc.ServiceError) => {
        signal.removeEventListener('abort', abort);
        if (failed) reject(failed);
        else if (signal.aborted) resolve();
        else reject(fromGrpcError(err, address));
      });
      call.on('end', () => {
        signal.removeEventListener('abort', abort);
        resolve();
      });
    });
  }

  readConsole(address: string, req: ConsoleRequest, onChunk: (c: ConsoleChunk) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // no deadline when following: it lasts as long as the user reads
      const call = this.client(address).ReadConsole(req, this.metadata.clone(), req.follow ? {} : { deadline: Date.now() + TIMEOUT_MS.destroy });
      const abort = (): void => call.cancel();
      signal.addEventListener('abort', abort, { once: true });
      call.on('data', (c: ConsoleChunk) => onChunk(c));
      call.on('error', (err: grpc.ServiceError) => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) resolve();
        else reject(fromGrpcError(err, address));
      });
      call.on('end', () => {
        signal.removeEventListener('abort', abort);
        resolve();
      });
    });
  }

  takeSnapshot(address: string, operationId: string, jobId: string, snapshotId: string, kind: SnapshotKind): Promise<Snapshot> {
    return this.call(address, TIMEOUT_MS.snapshot, (c, m, o, cb) => c.TakeSnapshot({ operationId, jobId, snapshotId, kind }, m, o, cb));
  }

  restore(address: string, operationId: string, cluster: ClusterSpec, snapshotId: string): Promise<ClusterStatus> {
    return this.call(address, TIMEOUT_MS.restore, (c, m, o, cb) => c.RestoreCluster({ operationId, cluster, snapshotId }, m, o, cb));
  }

  async pruneSnapshots(address: string, jobId: string, keep: number): Promise<string[]> {
    const res = await this.call<PruneSnapshotsResponse>(address, TIMEOUT_MS.prune, (c, m, o, cb) => c.PruneSnapshots({ jobId, keep }, m, o, cb));
    return res.deleted;
  }

  fetchSnapshot(address: string, req: FetchRequest, onProgress?: (p: TransferProgress) => void): Promise<TransferProgress> {
    return new Promise((resolve, reject) => {
      // a long deadline: a background replica waits behind urgent moves and may take a while
      // the source serves the bytes only to the site this ticket names
      const site = this.sites.get(address);
      const ticket = this.signer && site ? this.signer.sign(req.snapshotId, site) : '';
      const call = this.client(address).FetchSnapshot({ ...req, ticket }, this.metadata.clone(), { deadline: Date.now() + TIMEOUT_MS.fetch });
      let inFlight = this.fetches.get(req.jobId);
      if (!inFlight) this.fetches.set(req.jobId, (inFlight = new Set()));
      inFlight.add(call);
      const settled = (): void => {
        inFlight.delete(call);
        if (inFlight.size === 0 && this.fetches.get(req.jobId) === inFlight) this.fetches.delete(req.jobId);
      };
      call.on('status', settled);
      let last: TransferProgress | undefined;
      call.on('data', (p: TransferProgress) => {
        last = p;
        onProgress?.(p);
      });
      call.on('error', (err: grpc.ServiceError) => reject(fromGrpcError(err, address)));
      call.on('end', () => {
        // a stream that ends without `done` was cut short: the snapshot is not complete there
        if (last?.done) resolve(last);
        else reject(new UnavailableError(`transfer of ${req.snapshotId} to ${address} ended before it was complete`));
      });
    });
  }

  abortFetches(jobId: string): number {
    const calls = [...(this.fetches.get(jobId) ?? [])];
    for (const call of calls) call.cancel();
    this.fetches.delete(jobId);
    return calls.length;
  }

  reconnect(address: string): void {
    this.clients.get(address)?.close(); // calls in flight on it finish or fail on their own
    this.clients.delete(address);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
