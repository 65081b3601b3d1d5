// The CLI's only connection: the coordinator's JobService, with promisified typed calls.
// Every error leaves here as a typed BrineError naming the address it tried.
import * as grpc from '@grpc/grpc-js';
import { fromGrpcError, InternalError, UnavailableError, type BrineError } from '../shared/errors.js';
import { cliCredentials } from './credentials.js';
import { TLS_CLIENT_OPTIONS } from '../shared/tls.js';
import type { BrineEvent, Job, Lease, Site, Snapshot } from '../shared/proto.js';
import { CLIENT_OPTIONS } from '../shared/proto-options.js';
import { JobService } from './job-service.js';
import type { ListSnapshotsResponse__Output } from '../gen/brine/v1/ListSnapshotsResponse.js';
import type { JobServiceClient } from '../gen/brine/v1/JobService.js';
import type { SubmitJobRequest } from '../gen/brine/v1/SubmitJobRequest.js';
import type { ListSitesResponse__Output } from '../gen/brine/v1/ListSitesResponse.js';
import type { ListJobsResponse__Output } from '../gen/brine/v1/ListJobsResponse.js';
import type { ListJobsRequest } from '../gen/brine/v1/ListJobsRequest.js';
import type { ListAddressesResponse__Output } from '../gen/brine/v1/ListAddressesResponse.js';
import type { LogChunk__Output as LogChunk } from '../gen/brine/v1/LogChunk.js';
import type { OutputChunk__Output as OutputChunk } from '../gen/brine/v1/OutputChunk.js';

/** Reads answer fast; a missing coordinator is reported at once (waitForReady: false). */
export const READ_TIMEOUT_MS = 5_000;
/** Changes may make the coordinator talk to agents before it answers. */
export const WRITE_TIMEOUT_MS = 30_000;
/** Snapshots, suspends and resumes move each VM's memory: minutes on big real VMs. */
export const LONG_TIMEOUT_MS = 15 * 60_000;

export interface WatchStream {
  /** Resolves once the coordinator has answered the subscription (headers or a first event). */
  readonly subscribed: Promise<void>;
  /** Resolves when the stream ends by itself, rejects with a BrineError when it breaks. */
  readonly done: Promise<void>;
  /** Stops listening; `done` then resolves. */
  cancel(): void;
}

/** waitForReady: false (a call option carried by grpc-js's Metadata): fail at once when down. */
function failFast(): grpc.Metadata {
  return new grpc.Metadata({ waitForReady: false });
}

export class CoordinatorClient {
  readonly address: string;
  private readonly raw: JobServiceClient;
  // only what close() needs of each live stream
  private readonly streams = new Set<Pick<grpc.ClientReadableStream<unknown>, 'cancel'>>();

  constructor(address: string, credentials: grpc.ChannelCredentials = cliCredentials()) {
    this.address = address;
    this.raw = new JobService(address, credentials, { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  }

  /**
   * A client of the first of `addresses` that accepts a connection. An HA grid's standbys do not
   * listen, so that is its leader; with one address nothing is tried before the first call.
   */
  static async firstReachable(addresses: readonly string[], credentials: grpc.ChannelCredentials = cliCredentials(), waitMs = 3_000): Promise<CoordinatorClient> {
    const [only] = addresses;
    if (addresses.length === 1 && only !== undefined) return new CoordinatorClient(only, credentials);
    const clients = addresses.map((a) => new CoordinatorClient(a, credentials));
    const deadline = Date.now() + waitMs;
    const ready = (c: CoordinatorClient): Promise<CoordinatorClient> =>
      new Promise((resolve, reject) => c.raw.waitForReady(deadline, (err) => (err ? reject(err) : resolve(c))));
    try {
      const winner = await Promise.any(clients.map(ready));
      for (const c of clients) if (c !== winner) c.close();
      return winner;
    } catch (err) {
      for (const c of clients) c.close();
      throw new UnavailableError(`cannot reach any coordinator at ${addresses.join(', ')} within ${Math.round(waitMs / 1000)}s: is the grid's leader up? (an HA grid has no leader for a few seconds after one fails)`, err);
    }
  }

  async listSites(): Promise<Site[]> {
    const res = await this.unary<ListSitesResponse__Output>('ListSites', READ_TIMEOUT_MS, (md, o, cb) => this.raw.listSites({}, md, o, cb));
    return res.sites;
  }

  submitJob(req: SubmitJobRequest): Promise<Job> {
    return this.unary<Job>('SubmitJob', WRITE_TIMEOUT_MS, (md, o, cb) => this.raw.submitJob(req, md, o, cb));
  }

  getJob(id: string): Promise<Job> {
    return this.unary<Job>('GetJob', READ_TIMEOUT_MS, (md, o, cb) => this.raw.getJob({ id }, md, o, cb));
  }

  /** One page of jobs (ListJobs is paged: follow nextPageToken). */
  listJobsPage(req: ListJobsRequest): Promise<ListJobsResponse__Output> {
    return this.unary<ListJobsResponse__Output>('ListJobs', READ_TIMEOUT_MS, (md, o, cb) => this.raw.listJobs(req, md, o, cb));
  }

  /** Every job the filters match, page after page. */
  async listJobs(filters: Omit<ListJobsRequest, 'pageToken' | 'pageSize'> = {}): Promise<Job[]> {
    const out: Job[] = [];
    let pageToken = '';
    do {
      const res = await this.listJobsPage({ ...filters, pageSize: 5000, pageToken });
      out.push(...res.jobs);
      pageToken = res.nextPageToken;
    } while (pageToken);
    return out;
  }

  cancelJob(id: string): Promise<Job> {
    return this.unary<Job>('CancelJob', WRITE_TIMEOUT_MS, (md, o, cb) => this.raw.cancelJob({ id }, md, o, cb));
  }

  async listAddresses(site = ''): Promise<Lease[]> {
    const res = await this.unary<ListAddressesResponse__Output>('ListAddresses', READ_TIMEOUT_MS, (md, o, cb) => this.raw.listAddresses({ site }, md, o, cb));
    return res.leases;
  }

  snapshotJob(id: string): Promise<Snapshot> {
    return this.unary<Snapshot>('SnapshotJob', LONG_TIMEOUT_MS, (md, o, cb) => this.raw.snapshotJob({ id }, md, o, cb));
  }

  async listSnapshots(job: string): Promise<Snapshot[]> {
    const res = await this.unary<ListSnapshotsResponse__Output>('ListSnapshots', READ_TIMEOUT_MS, (md, o, cb) => this.raw.listSnapshots({ job }, md, o, cb));
    return res.snapshots;
  }

  suspendJob(id: string): Promise<Job> {
    return this.unary<Job>('SuspendJob', LONG_TIMEOUT_MS, (md, o, cb) => this.raw.suspendJob({ id }, md, o, cb));
  }

  resumeJob(id: string, site = ''): Promise<Job> {
    return this.unary<Job>('ResumeJob', LONG_TIMEOUT_MS, (md, o, cb) => this.raw.resumeJob({ id, site }, md, o, cb));
  }

  migrateJob(id: string, to: string, options: { precopy?: boolean } = {}): Promise<Job> {
    const noPrecopy = options.precopy === false;
    return this.unary<Job>('MigrateJob', LONG_TIMEOUT_MS, (md, o, cb) => this.raw.migrateJob({ id, to, noPrecopy }, md, o, cb));
  }

  reclaimNodes(site: string, nodes: string[], grace = ''): Promise<Site> {
    return this.unary<Site>('ReclaimNodes', LONG_TIMEOUT_MS, (md, o, cb) => this.raw.reclaimNodes({ site, nodes, grace }, md, o, cb));
  }

  releaseNodes(site: string, nodes: string[]): Promise<Site> {
    return this.unary<Site>('ReleaseNodes', WRITE_TIMEOUT_MS, (md, o, cb) => this.raw.releaseNodes({ site, nodes }, md, o, cb));
  }

  removeSite(site: string): Promise<Site> {
    return this.unary<Site>('RemoveSite', WRITE_TIMEOUT_MS, (md, o, cb) => this.raw.removeSite({ site }, md, o, cb));
  }

  /** Live events (only `job`'s when given) delivered to `onEvent` until cancelled or broken. */
  watch(job: string, onEvent: (event: BrineEvent) => void): WatchStream {
    // no deadline: a watch lasts as long as the user wants it
    return this.serverStream('Watch', this.raw.watch({ job }, failFast()), onEvent);
  }

  /** A job's consoles (`brine logs`), delivered to `onChunk` until done, cancelled or broken. */
  logs(job: string, vm: string, follow: boolean, onChunk: (chunk: LogChunk) => void): WatchStream {
    return this.serverStream('Logs', this.raw.logs({ job, vm, follow }, failFast()), onChunk);
  }

  /**
   * The files of an ended job's output disks (`brine output`), piece by piece into `onChunk`; the
   * stream waits while a promise it returns is pending (the disk writes set the pace).
   */
  output(job: string, vm: string, onChunk: (chunk: OutputChunk) => Promise<void>): WatchStream {
    return this.serverStream('ReadOutput', this.raw.readOutput({ jobId: job, vm }, failFast()), onChunk);
  }

  /**
   * A server stream's messages into `onData`; `done` settles when it ends, is cancelled or breaks.
   * A promise from `onData` pauses the stream until it settles; if it rejects, so does `done`.
   */
  private serverStream<T>(method: string, call: grpc.ClientReadableStream<T>, onData: (m: T) => void | Promise<void>): WatchStream {
    this.streams.add(call);
    let cancelled = false;
    let markSubscribed: () => void = () => {};
    const subscribed = new Promise<void>((resolve) => {
      markSubscribed = resolve;
    });
    // whether the coordinator ever answered: tells "went away" from "was never there"
    let answered = false;
    call.once('metadata', () => {
      answered = true;
      markSubscribed();
    });
    let failed: { err: unknown } | undefined;
    // the last message's work may still run when the stream ends: `done` waits for it
    let pending: Promise<void> = Promise.resolve();
    call.on('data', (m: T) => {
      answered = true;
      markSubscribed();
      const held = onData(m);
      if (!held) return;
      call.pause();
      pending = held.then(
        () => undefined,
        () => undefined,
      );
      held.then(
        () => call.resume(),
        (err: unknown) => {
          failed = { err };
          call.cancel();
        },
      );
    });
    const done = new Promise<void>((resolve, reject) => {
      call.on('error', (err: grpc.ServiceError) => {
        this.streams.delete(call);
        markSubscribed();
        if (failed) reject(failed.err);
        else if (cancelled && err.code === grpc.status.CANCELLED) resolve();
        else if (answered && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.CANCELLED)) {
          // a coordinator that dies or shuts down under a live stream: the call breaks, not ends
          reject(new UnavailableError(`lost the connection to the coordinator at ${this.address}: ${why(err.details)}`, err));
        } else reject(this.convert(err, method, 0, false));
      });
      // 'status' follows 'end' on a clean finish; 'end' alone is enough to say it is over
      call.on('end', () => {
        this.streams.delete(call);
        markSubscribed();
        void pending.then(() => (failed ? reject(failed.err) : resolve()));
      });
    });
    return {
      subscribed,
      done,
      cancel: () => {
        cancelled = true;
        call.cancel();
      },
    };
  }

  close(): void {
    for (const call of this.streams) call.cancel();
    this.streams.clear();
    this.raw.close();
  }

  private unary<T>(
    method: string,
    timeoutMs: number,
    invoke: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => unknown,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      invoke(failFast(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(this.convert(err, method, timeoutMs, timeoutMs >= WRITE_TIMEOUT_MS));
        else if (res === undefined) reject(new InternalError(`the coordinator sent an empty answer to ${method}`));
        else resolve(res);
      });
    });
  }

  private convert(err: grpc.ServiceError, method: string, timeoutMs: number, change: boolean): BrineError {
    if (err.code === grpc.status.DEADLINE_EXCEEDED && timeoutMs > 0) {
      // a change may have reached the coordinator: say so rather than only "cannot reach"
      const maybe = change ? ' (the request may still take effect: check with brine ls)' : '';
      return new UnavailableError(
        `the coordinator at ${this.address} did not answer within ${Math.round(timeoutMs / 1000)}s${maybe}`,
        err,
      );
    }
    if (err.code === grpc.status.UNAVAILABLE) {
      const hint = 'Is it running? (set --coordinator or BRINE_COORDINATOR)';
      return new UnavailableError(`cannot reach the coordinator at ${this.address}: ${why(err.details)}. ${hint}`, err);
    }
    if (err.code === grpc.status.UNIMPLEMENTED) {
      // something else listens there (another service, an HTTP proxy, an older coordinator)
      return new InternalError(
        `the server at ${this.address} does not answer brine.v1.JobService/${method} (${err.details}): is it a brine coordinator of this version?`,
        err,
      );
    }
    return fromGrpcError(err, this.address);
  }
}

/** grpc-js's connection failure text, shortened to what a user can act on. */
function why(details: string): string {
  const errno = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  switch (errno) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    default:
      if (/name resolution failed|DNS resolution failed/i.test(details)) return 'unknown host';
      return details.replace(/\s*Resolution note:\s*\.?/g, '').replace(/Last error: (Error: )?/g, '').trim() || 'unavailable';
  }
}
