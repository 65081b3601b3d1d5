// The HA tier (issue 10.4): three coordinators on a real 3-member etcd cluster on loopback
// (scripts/etcd-cluster.sh), two agents on libvirt's test driver. The leader is killed with -9
// during a stream of submits and during a move: a standby leads within 5 s (measured and
// printed), no acknowledged submit is lost, the move completes or rolls back, no VM runs twice,
// and the agents and the CLI follow the new leader.
import { expect } from 'chai';
import type * as grpc from '@grpc/grpc-js';
import { CLIENT_OPTIONS, JobService, type Job, type Lease, type Site } from '../../src/shared/proto.js';
import type { JobServiceClient } from '../../src/gen/brine/v1/JobService.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { ADMIN_FILES, transportOf } from '../helpers/pki.js';
import { EtcdCluster } from '../helpers/etcd.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const FAILOVER_LIMIT_MS = 5_000;

describe('HA on etcd: the leader killed with -9', function () {
  this.timeout(240_000);
  let etcd: EtcdCluster;
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  const clients = (): JobServiceClient[] =>
    grid.haPorts.map((p) => new JobService(`127.0.0.1:${p}`, clientCredentials(transportOf(ADMIN_FILES), { roles: ['coordinator'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS }));
  const leaderIndex = (): number => {
    const name = grid.haLeader();
    if (!name) throw new Error('no coordinator leads');
    return Number(name.replace('coordinator-', ''));
  };

  before(async () => {
    etcd = await EtcdCluster.start(3);
  });
  after(async () => {
    await etcd?.stop();
  });
  beforeEach(async () => {
    grid = new TestGrid();
    // coordinator-0 leads (it starts first); the journal is compacted every MiB, so the kill also
    // lands around compactions into etcd
    const extra = 'journal:\n  compactAfter: 1\n';
    await grid.startHaCoordinator(0, etcd.endpoints, { extra });
    expect(grid.haLeader()).to.equal('coordinator-0');
    await grid.startHaCoordinator(1, etcd.endpoints, { extra });
    await grid.startHaCoordinator(2, etcd.endpoints, { extra });
    expect(grid.haLeader()).to.equal('coordinator-0');
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('during a stream of submits: a standby leads within 5 s, no acknowledged submit is lost, agents follow', async () => {
    const cs = clients();
    let target = leaderIndex();
    const acked: Array<{ id: string; at: number }> = [];
    let killedAt = 0;
    let stop = false;
    const submit = (c: JobServiceClient, name: string): Promise<Job> =>
      new Promise((resolve, reject) =>
        c.SubmitJob({ name, vms: 1, cpus: 1, memoryMiB: 64, image: 'tiny' }, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res?: Job) => (err || !res ? reject(err) : resolve(res))),
      );
    const streams = Array.from({ length: 16 }, async (_, s) => {
      for (let i = 0; !stop; i++) {
        const at = target;
        try {
          const job = await submit(cs[at] as JobServiceClient, `ha-${s}-${i}`);
          acked.push({ id: job.id, at: Date.now() });
        } catch {
          // not acknowledged: the leader died under it, or this one is a standby; try the next one
          if (target === at) target = (at + 1) % cs.length;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await waitFor('300 acknowledged submits', () => acked.length >= 300, 60_000, 5);
    const old = grid.haLeader() as string;
    killedAt = Date.now();
    await grid.kill(old, 'SIGKILL');
    const before = acked.length;
    // and until a compaction into etcd has happened (how many submits that takes depends on the
    // machine's speed: the stream goes on until the journal has grown past compactAfter)
    const compacted = (): boolean => [...grid.procs.values()].some((p) => p.log.includes('journal compacted into the snapshots'));
    await waitFor('300 more acknowledged submits from the new leader, and a compaction', () => acked.length >= before + 300 && compacted(), 120_000, 5);
    stop = true;
    await Promise.all(streams);
    const firstAfter = acked.find((a) => a.at > killedAt)?.at ?? Infinity;
    const failoverMs = firstAfter - killedAt;
    process.stdout.write(`      failover: ${grid.haLeader()} acknowledged its first submit ${failoverMs} ms after ${old} was killed with -9 (lease TTL 2 s; limit ${FAILOVER_LIMIT_MS} ms)\n`);
    expect(failoverMs).to.be.lessThan(FAILOVER_LIMIT_MS);
    const leader = grid.haLeader() as string;
    expect(leader).to.not.equal(old);
    // its epoch is newer than the dead leader's, so agents take its word and refuse the old one's
    const epoch = (name: string): number => Number(/"epoch":(\d+),"msg":"grid identity"/.exec(grid.procs.get(name)?.log ?? '')?.[1] ?? 0);
    expect(epoch(leader)).to.be.greaterThan(1);

    const c = cs[leaderIndex()] as JobServiceClient;
    const missing: string[] = [];
    for (const { id } of acked) {
      const found = await new Promise<boolean>((resolve, reject) =>
        c.GetJob({ id }, (err: grpc.ServiceError | null) => (err ? (err.code === 5 ? resolve(false) : reject(err)) : resolve(true))),
      );
      if (!found) missing.push(id);
    }
    expect(missing, `${missing.length} of ${acked.length} acknowledged submits lost`).to.deep.equal([]);
    expect(new Set(acked.map((a) => a.id)).size).to.equal(acked.length);
    // the state was compacted into etcd snapshots along the way (compactAfter: 1 MiB)
    expect(compacted(), 'a compaction into etcd').to.equal(true);
    for (const x of cs) x.close();

    // the agents followed the leader: both sites UP through the CLI given every address
    const sites = await waitFor('both sites UP at the new leader', async () => {
      const r = await cli('sites', '--json');
      const list = r.code === 0 ? r.json<Site[]>() : [];
      return list.filter((s) => s.state === 'UP').length === 2 && list;
    }, 30_000);
    expect(sites.map((s) => s.name).sort()).to.deep.equal(['site-a', 'site-b']);
    // the killed one comes back as a standby
    await grid.startHaCoordinator(Number(old.replace('coordinator-', '')), etcd.endpoints);
    expect(grid.procs.get(old)?.log).to.match(/standby: another coordinator leads/);
    expect(grid.haLeader()).to.equal(leader);
  });

  it('during a move: it completes or rolls back, and no VM runs twice', async () => {
    const sub = await cli('submit', '--name', 'hamove', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const cs = clients();
    const leader = grid.haLeader() as string;
    const c = cs[leaderIndex()] as JobServiceClient;
    const migrate = spawnCli(['--coordinator', grid.coordinator, 'migrate', job.id, '--to', 'site-b', '--json']);
    // kill the leader as soon as the move has begun
    const seen = await waitFor('the move under way', () =>
      new Promise<Job | false>((resolve) => c.GetJob({ id: job.id }, (err: grpc.ServiceError | null, res?: Job) => resolve(!err && res && res.state === 'RELOCATING' ? res : false))),
      30_000, 5,
    );
    await grid.kill(leader, 'SIGKILL');
    expect(seen.state).to.equal('RELOCATING');
    await migrate.result;
    for (const x of cs) x.close();
    const after = await waitFor('the job RUNNING again', async () => {
      const r = await cli('show', job.id, '--json');
      const j = r.code === 0 ? r.json<Job>() : undefined;
      return j?.state === 'RUNNING' && j;
    }, 60_000, 200);
    expect(['site-a', 'site-b']).to.include(after.site);
    const reasons = after.history.map((h) => `${h.state}: ${h.reason}`).join('\n');
    process.stdout.write(`      the move ended ${after.site === 'site-b' ? 'completed, on site-b' : 'rolled back, on site-a'}\n`);
    // no VM runs twice: only the job's site holds its cluster, with both VMs running
    const other = after.site === 'site-a' ? 'site-b' : 'site-a';
    await waitFor(`nothing of the job left on ${other}`, async () => !(await agentStatus(grid.sitePorts.get(other) as number)).some((cl) => cl.jobId === job.id), 30_000, 200);
    const here = (await agentStatus(grid.sitePorts.get(after.site) as number)).find((cl) => cl.jobId === job.id);
    expect(here?.vms.map((v) => v.state), reasons).to.deep.equal(['RUNNING', 'RUNNING']);
    // and its live addresses are the ones of that site only
    const live = await waitFor('the other site\'s leases released', async () => {
      const l = (await cli('addresses', '--json')).json<Lease[]>().filter((x) => x.job === job.id && x.state !== 'releasing');
      return l.every((x) => x.site === after.site) && l;
    }, 30_000, 200);
    expect(live.map((l) => l.site)).to.deep.equal([after.site, after.site]);
  });

  it('a coordinator refuses a damaged state in etcd, naming the key, and changes nothing', async () => {
    const sub = await cli('submit', '--name', 'kept', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    for (const name of [...grid.procs.keys()].filter((n) => n.startsWith('coordinator-'))) await grid.kill(name, 'SIGKILL');
    const etcdctl = (...args: string[]) => promisify(execFile)('etcdctl', ['--endpoints', etcd.endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
    const head = `${grid.etcdPrefix}head`;
    await etcdctl('put', head, '{"cut": "not a number"');
    const journalBefore = (await etcdctl('get', '--prefix', `${grid.etcdPrefix}journal/`, '--keys-only')).stdout;
    const proc = await grid.startHaCoordinator(0, etcd.endpoints, { wait: false });
    expect(await proc.exited).to.not.equal(0);
    expect(proc.log).to.include(`coordinator state etcd key ${head}: not a valid snapshot head`);
    expect(proc.log).to.not.include('coordinator listening');
    // nothing written over it: the journal records and the bad head are as they were
    expect((await etcdctl('get', '--prefix', `${grid.etcdPrefix}journal/`, '--keys-only')).stdout).to.equal(journalBefore);
    expect((await etcdctl('get', head, '--print-value-only')).stdout.trim()).to.equal('{"cut": "not a number"');
  });
});
