// A fake AgentGateway for unit tests of the coordinator's logic (never for integration tests):
// every call is recorded; each answers like a healthy agent unless a test makes it fail.
import type { AgentGateway, FetchRequest, SnapshotKind, TransferProgress } from '../../src/coordinator/agents.js';
import { UnavailableError } from '../../src/shared/errors.js';
import type { ClusterSpec, ClusterStatus, Snapshot } from '../../src/shared/proto.js';

export type Method = 'deploy' | 'destroy' | 'takeSnapshot' | 'restore' | 'pruneSnapshots' | 'fetchSnapshot';

export interface Call {
  method: Method;
  address: string;
  args: unknown[];
}

export class FakeAgentGateway implements AgentGateway {
  readonly calls: Call[] = [];
  /** failures to throw, per method, consumed in order (undefined: succeed) */
  readonly failures: Partial<Record<Method, Array<Error | undefined>>> = {};
  /** gates to wait for, per method, consumed in order (undefined: answer at once) */
  readonly gates: Partial<Record<Method, Array<Promise<void> | undefined>>> = {};
  /** agent addresses that do not answer (every call fails UNAVAILABLE) */
  readonly down = new Set<string>();
  private readonly at: () => Date;

  constructor(now: () => Date) {
    this.at = now;
  }

  /** `method@address` of each call, in order. */
  trace(): string[] {
    return this.calls.map((c) => `${c.method}@${c.address}`);
  }

  private async record(method: Method, address: string, args: unknown[]): Promise<void> {
    this.calls.push({ method, address, args });
    const gate = this.gates[method]?.shift();
    if (gate) await gate;
    if (this.down.has(address)) throw new UnavailableError(`agent at ${address} is unreachable`);
    const failure = this.failures[method]?.shift();
    if (failure) throw failure;
  }

  private status(cluster: ClusterSpec, state = 'RUNNING'): ClusterStatus {
    return {
      jobId: cluster.jobId,
      network: `brine-${cluster.jobId}`,
      networkXml: '',
      vms: cluster.vms.map((v) => ({ name: v.name, node: v.node, domain: `brine-${cluster.jobId}-${v.name}`, state, console: `/tmp/${v.name}.log` })),
    };
  }

  async deploy(address: string, operationId: string, cluster: ClusterSpec): Promise<ClusterStatus> {
    await this.record('deploy', address, [operationId, cluster]);
    return this.status(cluster);
  }
  async destroy(address: string, operationId: string, jobId: string): Promise<ClusterStatus> {
    await this.record('destroy', address, [operationId, jobId]);
    return { jobId, network: '', networkXml: '', vms: [] };
  }
  async takeSnapshot(address: string, operationId: string, jobId: string, snapshotId: string, kind: SnapshotKind): Promise<Snapshot> {
    await this.record('takeSnapshot', address, [operationId, jobId, snapshotId, kind]);
    return {
      id: snapshotId,
      job: jobId,
      createdAt: this.at().toISOString(),
      sites: [],
      vms: [],
      totalBytes: 1000,
      newBytes: 100,
      pauseSkewMs: 1,
      downtimeMs: 50,
      damaged: false,
      kind,
      damagedSites: [],
    };
  }
  async restore(address: string, operationId: string, cluster: ClusterSpec, snapshotId: string): Promise<ClusterStatus> {
    await this.record('restore', address, [operationId, cluster, snapshotId]);
    return this.status(cluster);
  }
  async pruneSnapshots(address: string, jobId: string, keep: number): Promise<string[]> {
    await this.record('pruneSnapshots', address, [jobId, keep]);
    return [];
  }
  async fetchSnapshot(address: string, req: FetchRequest, onProgress?: (p: TransferProgress) => void): Promise<TransferProgress> {
    await this.record('fetchSnapshot', address, [req]);
    const done: TransferProgress = { snapshotId: req.snapshotId, bytesDone: 100, bytesTotal: 100, chunksDone: 1, chunksTotal: 1, rateBps: 1000, done: true, phase: 'done' };
    onProgress?.(done);
    return done;
  }
  abortFetches?(jobId: string): number;
  reconnect(): void {}
  close(): void {}
}
