// The coordinator's orchestration with fake agents and manual time: placement, moves, rollback,
// failover, preemption retries — no processes, no sleeps.
import { expect } from 'chai';
import { BrineError, UnavailableError } from '../../src/shared/errors.js';
import { harness, type Harness } from '../helpers/coordinator-harness.js';
import { Store } from '../../src/coordinator/store.js';

const submit = (h: Harness, vms = 2) =>
  h.coordinator.submit({ name: 'demo', owner: 'alice', vms, cpus: 1, memoryMiB: 128, image: 'tiny', site: '', checkpointEvery: '', userData: Buffer.alloc(0), meta: {}, egress: false, outputDiskMiB: 0 });

describe('coordinator logic (fake agents, manual clock)', function () {
  let h: Harness;
  afterEach(async () => h?.close());

  it('places a submitted job and deploys it: PENDING → DEPLOYING → RUNNING, one deploy call', async () => {
    h = await harness();
    await h.register('site-a');
    const job = await submit(h);
    await h.timers.flush();
    expect(h.coordinator.job(job.id).state).to.equal('RUNNING');
    expect(h.agents.trace()).to.deep.equal(['deploy@site-a.test:7800']);
    expect(h.coordinator.job(job.id).history.map((e) => e.state)).to.deep.equal(['PENDING', 'DEPLOYING', 'RUNNING']);
    // and that is what is durable: the store opened again from disk has the job RUNNING
    const reopened = await Store.open(h.dir, { commitDelayMs: 0 });
    try {
      expect(reopened.job(job.id)?.state).to.equal('RUNNING');
      expect(reopened.job(job.id)?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
    } finally {
      await reopened.close();
    }
  });

  it('migrates with a pre-copy, then releases the origin; the job runs at the destination on its new subnet', async () => {
    h = await harness();
    await h.register('site-a');
    const job = await submit(h);
    await h.timers.flush();
    await h.register('site-b');
    h.agents.calls.length = 0;
    await h.coordinator.migrate(job.id, 'site-b');
    await h.timers.flush();
    const j = h.coordinator.job(job.id);
    expect(j.state).to.equal('RUNNING');
    expect(j.site).to.equal('site-b');
    expect(j.subnet.startsWith('10.20.')).to.equal(true);
    expect(h.agents.trace()).to.deep.equal([
      'takeSnapshot@site-a.test:7800', // pre-copy checkpoint
      'fetchSnapshot@site-b.test:7800',
      'takeSnapshot@site-a.test:7800', // final snapshot
      'fetchSnapshot@site-b.test:7800',
      'restore@site-b.test:7800',
      'destroy@site-a.test:7800',
      'pruneSnapshots@site-b.test:7800',
    ]);
    expect(h.agents.calls[2]?.args[3]).to.equal('suspend');
    expect(h.coordinator.addresses('site-a').filter((l) => l.job === job.id)).to.deep.equal([]);
  });

  it("a move holds the origin's nodes until its final snapshot stopped the VMs there, then frees them for others", async () => {
    h = await harness();
    await h.register('site-a');
    await h.register('site-b');
    const big = await h.coordinator.submit({ name: 'big', owner: 'alice', vms: 2, cpus: 8, memoryMiB: 128, image: 'tiny', site: 'site-a', checkpointEvery: '', userData: Buffer.alloc(0), meta: {}, egress: false, outputDiskMiB: 0 });
    await h.timers.flush();
    let openPrecopy: () => void = () => undefined;
    let openFinal: () => void = () => undefined;
    h.agents.gates.fetchSnapshot = [new Promise((r) => (openPrecopy = r)), new Promise((r) => (openFinal = r))];
    const moving = h.coordinator.migrate(big.id, 'site-b');
    await h.timers.flush();
    const other = await h.coordinator.submit({ name: 'other', owner: 'bob', vms: 1, cpus: 8, memoryMiB: 128, image: 'tiny', site: 'site-a', checkpointEvery: '', userData: Buffer.alloc(0), meta: {}, egress: false, outputDiskMiB: 0 });
    await h.timers.flush();
    expect(h.coordinator.job(other.id).state).to.equal('PENDING'); // both site-a nodes still run big's VMs (pre-copy)
    openPrecopy();
    await h.timers.flush();
    // final snapshot taken, its transfer held: site-a's nodes are free now
    expect(h.coordinator.job(big.id).pendingOp?.move?.phase).to.equal('transfer');
    expect(h.coordinator.job(other.id).state).to.equal('RUNNING');
    expect(h.coordinator.job(other.id).site).to.equal('site-a');
    openFinal();
    await moving;
    await h.timers.flush();
    expect(h.coordinator.job(big.id).site).to.equal('site-b');
    expect(h.coordinator.job(big.id).state).to.equal('RUNNING');
  });

  it('cancelling a job mid-transfer aborts the transfer and deletes what reached the destination', async () => {
    h = await harness();
    await h.register('site-a');
    await h.register('site-b');
    const job = await h.coordinator.submit({ name: 'j', owner: 'alice', vms: 1, cpus: 1, memoryMiB: 128, image: 'tiny', site: 'site-a', checkpointEvery: '', userData: Buffer.alloc(0), meta: {}, egress: false, outputDiskMiB: 0 });
    await h.timers.flush();
    let aborted = 0;
    h.agents.abortFetches = () => ++aborted;
    h.agents.gates.fetchSnapshot = [new Promise(() => undefined)]; // the pre-copy's transfer never ends by itself
    void h.coordinator.migrate(job.id, 'site-b').catch(() => undefined);
    await h.timers.flush();
    expect(h.coordinator.job(job.id).state).to.equal('RELOCATING');
    await h.coordinator.cancel(job.id);
    await h.timers.flush();
    expect(aborted).to.equal(1);
    const prunes = h.agents.calls.filter((c) => c.method === 'pruneSnapshots').map((c) => `${c.address} keep=${String(c.args[1])}`);
    expect(prunes).to.include('site-b.test:7800 keep=0'); // the partial copy at the destination
    expect(prunes).to.include('site-a.test:7800 keep=0');
    expect(h.coordinator.job(job.id).state).to.equal('CANCELLED');
  });

  it('rolls a move back when the restore fails: back at the origin on its old addresses, then resumed there', async () => {
    h = await harness();
    await h.register('site-a');
    await h.register('site-b');
    const job = await submit(h);
    await h.timers.flush();
    const origin = h.coordinator.job(job.id).site;
    const dest = origin === 'site-a' ? 'site-b' : 'site-a';
    const oldIps = h.coordinator.job(job.id).vms.map((v) => v.ip);
    h.agents.failures.restore = [new BrineError('INTERNAL', 'restore exploded')];
    await h.coordinator.migrate(job.id, dest, 'test', { precopy: false });
    await h.timers.flush();
    const j = h.coordinator.job(job.id);
    expect(j.site).to.equal(origin);
    expect(j.vms.map((v) => v.ip)).to.deep.equal(oldIps);
    expect(j.history.map((e) => e.state)).to.include('SUSPENDED');
    expect(j.history.at(-3)?.reason).to.match(/move to .* failed \(restore on .* failed: restore exploded\); back on/);
    // the rolled-back running job resumes at the origin by itself
    expect(j.state).to.equal('RUNNING');
    // what the failed restore may have created at the destination is destroyed, then the job resumes at home
    const trace = h.agents.trace();
    expect(trace.slice(trace.indexOf(`restore@${dest}.test:7800`))).to.deep.equal([`restore@${dest}.test:7800`, `destroy@${dest}.test:7800`, `restore@${origin}.test:7800`]);
  });

  it('abandons a move whose final snapshot fails: the job runs on at the origin and the destination lease is freed', async () => {
    h = await harness();
    await h.register('site-a');
    await h.register('site-b');
    const job = await submit(h, 1);
    await h.timers.flush();
    const origin = h.coordinator.job(job.id).site;
    const dest = origin === 'site-a' ? 'site-b' : 'site-a';
    h.agents.failures.takeSnapshot = [new UnavailableError('libvirtd unreachable')];
    let thrown: unknown;
    await h.coordinator.migrate(job.id, dest, 'test', { precopy: false }).catch((err: unknown) => (thrown = err));
    expect(thrown).to.be.instanceOf(UnavailableError);
    const j = h.coordinator.job(job.id);
    expect(j.state).to.equal('RUNNING');
    expect(j.site).to.equal(origin);
    expect(h.coordinator.addresses(dest).filter((l) => l.job === job.id)).to.deep.equal([]);
  });

  it('fails a job over from a dead site to the site holding its replica, after failoverAfter, without sleeping', async () => {
    h = await harness({ jobs: { failoverAfter: '30s' } });
    await h.register('site-a', { snapshotsReplicas: 1 });
    const job = await submit(h, 1);
    await h.timers.flush();
    await h.register('site-b');
    await h.register('site-c');
    await h.coordinator.snapshot(job.id);
    await h.timers.flush();
    const snap = h.coordinator.snapshots(job.id)[0];
    expect(snap?.sites.length).to.equal(2); // replicated to one other site
    const replica = snap?.sites.find((s) => s !== 'site-a') as string;
    // site-a goes silent (its agent unreachable); the others keep heartbeating
    h.agents.down.add('site-a.test:7800');
    for (let t = 0; t < 45; t++) {
      await h.heartbeat('site-b', 'site-c');
      await h.timers.advance(1000);
    }
    const j = h.coordinator.job(job.id);
    expect(j.state).to.equal('RUNNING');
    expect(j.site).to.equal(replica); // nothing had to be sent
    expect(j.history.some((e) => /failover: site site-a is DOWN since/.test(e.reason))).to.equal(true);
    expect(h.coordinator.addresses('site-a').find((l) => l.job === job.id)?.state).to.equal('releasing'); // until site-a confirms
  });

  it('retries a reclaim suspend that fails with growing delays, not in a tight loop', async () => {
    h = await harness();
    await h.register('site-a');
    const job = await submit(h, 1);
    await h.timers.flush();
    const node = h.coordinator.job(job.id).vms[0]?.node as string;
    h.agents.failures.takeSnapshot = [new UnavailableError('disk busy'), new UnavailableError('disk busy')];
    const reply = h.coordinator.reclaim('site-a', [node], '60s');
    // let the suspends fail and their retries wait; time moves only here
    await h.timers.advance(10_000, 250);
    const site = await reply;
    expect(site.preempted.map((p) => p.saved)).to.deep.equal([true]);
    const j = h.coordinator.job(job.id);
    expect(j.history.filter((e) => e.state === 'SUSPENDED')).to.have.length(1);
    // then it resumes by itself, on the site's node that was not reclaimed
    expect(j.state).to.equal('RUNNING');
    expect(j.vms[0]?.node).to.not.equal(node);
    const suspends = h.agents.calls.filter((c) => c.method === 'takeSnapshot');
    expect(suspends.length).to.equal(3);
    const retryDelays = h.timers.delays.filter((d) => d >= 500 && d <= 30_000); // not the grace-period waits
    expect(retryDelays.slice(0, 2)).to.satisfy((d: number[]) => d.length === 2 && d[0]! >= 800 && d[0]! <= 1000 && d[1]! >= 1600 && d[1]! <= 2000);
  });
});
