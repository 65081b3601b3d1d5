// A Coordinator with a real store in a temp dir, fake agents, and manual time: its logic runs in
// unit tests without processes or sleeps.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { CoordinatorConfigSchema } from '../../src/coordinator/config.js';
import { Store } from '../../src/coordinator/store.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { RegisterRequest__Output as RegisterRequest } from '../../src/gen/brine/v1/RegisterRequest.js';
import { FakeAgentGateway } from './fake-agents.js';
import { ManualClock, ManualTimers } from './manual-time.js';

export interface Harness {
  coordinator: Coordinator;
  agents: FakeAgentGateway;
  clock: ManualClock;
  timers: ManualTimers;
  store: Store;
  /** the store's data dir (a test may reopen it to see what is durable) */
  dir: string;
  sessions: Map<string, string>;
  register(site: string, opts?: Partial<Omit<RegisterRequest, 'localReclaim' | 'gridId' | 'epoch'>>): Promise<void>;
  /** heartbeats from every site in `sites` with what the fake agents run (the coordinator's view) */
  heartbeat(...sites: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function harness(config: Record<string, unknown> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'brine-unit-coord-'));
  const store = await Store.open(dir, { commitDelayMs: 0 });
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const agents = new FakeAgentGateway(() => clock.now());
  // commits are real file writes: flush waits for them (and for what runs after them)
  let committing = 0;
  const commit = store.commit.bind(store);
  store.commit = async () => {
    committing++;
    try {
      await commit();
    } finally {
      committing--;
    }
  };
  timers.busy = () => committing > 0;
  // after every step of a test, the incrementally kept indexes must equal a rebuild from the records
  let coordinatorRef: Coordinator | undefined;
  const flush = timers.flush.bind(timers);
  timers.flush = async () => {
    await flush();
    const dump = coordinatorRef?.indexDump();
    if (dump && dump.live !== dump.rebuilt) throw new Error(`job index drifted:\n live    ${dump.live}\n rebuilt ${dump.rebuilt}`);
  };
  let n = 0;
  const coordinator = new Coordinator({
    config: CoordinatorConfigSchema.parse({ heartbeatTimeout: '10s', ...config }),
    store,
    agents,
    log: silentLogger,
    clock,
    timers,
    ids: { job: () => `j${++n}`, snapshot: () => `s${++n}` },
  });
  coordinatorRef = coordinator;
  coordinator.start();
  const sessions = new Map<string, string>();
  const pools: Record<string, string> = { 'site-a': '10.10.0.0/16', 'site-b': '10.20.0.0/16', 'site-c': '10.30.0.0/16' };
  const macs: Record<string, string> = { 'site-a': '02:b1:10:00:00:00/32', 'site-b': '02:b1:11:00:00:00/32', 'site-c': '02:b1:12:00:00:00/32' };
  const h: Harness = {
    coordinator,
    agents,
    clock,
    timers,
    store,
    dir,
    sessions,
    async register(site, opts = {}) {
      const res = await coordinator.register({
        site,
        advertise: `${site}.test:7800`,
        nodes: [
          { name: `${site}-n1`, uri: 'test:///default', cpus: 8, memoryMiB: 16384, arch: 'x86_64', domainType: 'test', domainTypes: ['test'], cpuModel: '' },
          { name: `${site}-n2`, uri: 'test:///default', cpus: 8, memoryMiB: 16384, arch: 'x86_64', domainType: 'test', domainTypes: ['test'], cpuModel: '' },
        ],
        images: ['tiny'],
        subnetPool: pools[site] ?? '10.99.0.0/16',
        macRange: macs[site] ?? '02:b1:19:00:00:00/32',
        instance: `${site}-instance`,
        clusters: [],
        defaultCheckpointEvery: '',
        snapshotsKeep: 3,
        snapshotsReplicas: 0,
        localReclaim: null,
        gridId: '',
        epoch: 0,
        egress: false,
        maxOutputDiskMiB: 0,
        ...opts,
      });
      sessions.set(site, res.session);
      await timers.flush();
    },
    async heartbeat(...sites) {
      for (const site of sites) {
        const clusters = coordinator
          .jobs()
          .filter((j) => j.site === site && j.vms.length > 0 && ['RUNNING', 'CHECKPOINTING', 'SUSPENDING', 'RELOCATING', 'DEPLOYING', 'RESUMING'].includes(j.state))
          .map((j) => ({ jobId: j.id, network: '', networkXml: '', vms: j.vms.map((v) => ({ name: v.name, node: v.node, domain: v.domain, state: 'RUNNING', console: v.console })) }));
        await coordinator.heartbeat(site, sessions.get(site) ?? '', clusters);
      }
      await timers.flush();
    },
    async close() {
      coordinator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}
