// Snapshots on real QEMU (qemu:///system, TCG here): clusters of brine's test guest deployed through
// the ClusterManager, checkpointed, suspended and restored through ClusterSnapshots into a real
// store. Run by scripts/test-qemu.sh (after setup-qemu.sh builds the guest and starts libvirtd).
//
// The guest prints `tick N …` on its console once a second: a checkpoint must not disturb the
// count, and a restore must carry it on from where the snapshot took it (not start again at 1).
//
// Each test uses a site name unique to the run and its own data dir; afterEach removes whatever
// libvirt still holds under that site's prefix, and nothing else.
//
// Prints the figures (pause skew, per-VM downtime, dump, store and restore times) for 1 and 2 VMs
// and for both capture methods; they are quoted in docs/design-notes.md.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, waitFor } from '../helpers/grid.js';
import { ClusterManager, hypervisorLogs } from '../../site-agent/clusters.js';
import { parseVmMetadata } from '../../site-agent/domain-xml.js';
import { decodeChunkSync } from '../../site-agent/snapshot-store/codec.js';
import { SnapshotStore, storeDir } from '../../site-agent/snapshot-store/index.js';
import { ClusterSnapshots, SnapshotDamagedError, type CaptureMethod } from '../../site-agent/snapshots.js';
import type { Logger } from '../../src/shared/logger.js';
import type { ClusterSpec, Snapshot } from '../../src/shared/proto.js';
import type { ImageConfig } from '../../site-agent/config.js';
import { readStored, replaceChunkContent } from '../helpers/store-files.js';

const URI = 'qemu:///system';
const GUEST = join(REPO_ROOT, '.brine', 'guest');
const GUEST_WAIT_MS = 120_000;
const run = promisify(execFile);

async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', URI, ...args], { timeout: 60_000 });
  return stdout;
}
const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** The tick counters on a console, in order. */
function ticks(file: string): number[] {
  if (!existsSync(file)) return [];
  const out: number[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const m = /^tick (\d+)/.exec(raw.replace(/\r/g, '').trim());
    if (m) out.push(Number(m[1]));
  }
  return out;
}
const lastTick = (file: string): number => ticks(file).pop() ?? 0;

async function tickAbove(file: string, n: number): Promise<number> {
  return waitFor(`a tick above ${n} on ${file}`, () => {
    const t = lastTick(file);
    return t > n ? t : undefined;
  }, GUEST_WAIT_MS, 100);
}

/** Keeps the agent's log events (to read the restore's timings). */
function capturingLogger(events: Array<Record<string, unknown>>, bindings: Record<string, unknown> = {}): Logger {
  const log = (fields: Record<string, unknown>, msg: string): void => {
    events.push({ ...bindings, ...fields, msg });
  };
  return { debug: log, info: log, warn: log, error: log, child: (b) => capturingLogger(events, { ...bindings, ...b }) };
}

interface VmFigures {
  name: string;
  downMs: number;
  captureMs: number;
  pausedAtMs: number;
}
function vmFigures(meta: Record<string, unknown>): VmFigures[] {
  return JSON.parse(String(meta.vms)) as VmFigures[];
}

const figures: string[] = [];
// Domain names carry no site (`brine-<job>-<vm>`): job ids unique to this run keep its domains apart
// from any other run's on this libvirtd (as the coordinator's grid-wide job ids do).
const RUN = randomBytes(3).toString('hex');
const PAIR = `pair-${RUN}`;
const KILL = `kill-${RUN}`;
const MOVED = `moved-${RUN}`;
const DISKY = `disky-${RUN}`;


describe('snapshots of real VMs on qemu:///system (QEMU tier)', function () {
  this.timeout(600_000);

  let site = '';
  let dataDir = '';
  let octet = 0;
  let images: Record<string, ImageConfig> = {};
  let manager: ClusterManager | null = null;
  let store: SnapshotStore;
  const events: Array<Record<string, unknown>> = [];

  const nodes = [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 2, memoryMiB: 2048 }));

  function spec(jobId: string, k: number, image = 'tiny'): ClusterSpec {
    return {
      jobId,
      jobName: jobId,
      image,
      userData: Buffer.alloc(0),
      meta: {},
      egress: false,
      outputDiskMiB: 0,
      cpus: 1,
      memoryMiB: 128,
      subnet: `10.${octet}.0.0/29`,
      gateway: `10.${octet}.0.1`,
      vms: Array.from({ length: k }, (_, i) => ({
        name: `vm-${i}`,
        node: i % 2 === 0 ? 'n1' : 'n2',
        mac: `02:b3:${octet.toString(16).padStart(2, '0')}:00:00:${(i + 1).toString(16).padStart(2, '0')}`,
        ip: `10.${octet}.0.${i + 2}`,
      })),
    };
  }

  async function open(method?: CaptureMethod): Promise<{ m: ClusterManager; snaps: ClusterSnapshots }> {
    const m = manager ?? (manager = await ClusterManager.open({ site, dataDir, nodes, images, pollIntervalMs: 500 }));
    store = await SnapshotStore.open(storeDir(dataDir));
    const snaps = new ClusterSnapshots({
      clusters: m,
      store,
      dataDir,
      site: { nodes, images },
      logger: capturingLogger(events),
      ...(method ? { method } : {}),
    });
    return { m, snaps };
  }

  /** This test's domains by their metadata (domain names carry no site), its networks by name. */
  const ours = async (): Promise<{ domains: string[]; networks: string[] }> => {
    const domains: string[] = [];
    for (const d of lines(await virsh('list', '--all', '--name')).filter((n) => n.startsWith('brine-'))) {
      if (parseVmMetadata(await virsh('dumpxml', d).catch(() => ''))?.site === site) domains.push(d);
    }
    return { domains, networks: lines(await virsh('net-list', '--all', '--name')).filter((n) => n.startsWith(`brine-${site}-`)) };
  };
  const domState = async (d: string): Promise<string> => (await virsh('domstate', d)).trim();

  function record(label: string, snap: Snapshot, meta: Record<string, unknown>): void {
    const per = vmFigures(meta)
      .map((v) => `${v.name} down ${v.downMs} ms (dump ${v.captureMs} ms)`)
      .join(', ');
    const storeEv = events.filter((e) => e.msg === 'snapshot: stored' && e.snapshot === snap.id).pop();
    figures.push(
      `${label}: pauseSkew ${snap.pauseSkewMs} ms, downtime ${snap.downtimeMs} ms [${per}]; ` +
        `${(Number(snap.totalBytes) / 1e6).toFixed(1)} MB, new ${(Number(snap.newBytes) / 1e6).toFixed(1)} MB, store ${String(storeEv?.storeMs ?? '?')} ms`,
    );
  }

  before(async function () {
    for (const f of ['vmlinuz', 'initrd.img', 'cmdline']) {
      if (!existsSync(join(GUEST, f))) throw new Error(`${join(GUEST, f)} is missing: run scripts/setup-qemu.sh (it builds the test guest)`);
    }
    await virsh('version');
  });

  beforeEach(async () => {
    site = `qs${randomBytes(3).toString('hex')}`;
    dataDir = mkdtempSync(join(tmpdir(), 'brine-qsnap-'));
    octet = 160 + ((randomBytes(1)[0] as number) % 90);
    const cmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
    // A disk image for the overlay test: a blank qcow2 base (the guest then sits in the firmware's
    // boot loop, which is all a disk capture needs: a running QEMU writing to its overlay).
    const base = join(dataDir, 'base.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    images = {
      tiny: { kind: 'kernel', kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline },
      blank: { kind: 'disk', disk: base },
    };
    events.length = 0;
  });

  afterEach(async () => {
    if (manager) {
      await manager.destroyAll().catch(() => []);
      await manager.close();
      manager = null;
    }
    const left = await ours();
    for (const d of left.domains) {
      await virsh('destroy', d).catch(() => '');
      await virsh('undefine', d).catch(() => '');
    }
    for (const n of left.networks) {
      await virsh('net-destroy', n).catch(() => '');
      await virsh('net-undefine', n).catch(() => '');
    }
    for (const d of left.domains) for (const f of hypervisorLogs(URI, d)) rmSync(f, { force: true });
    if (left.domains.length + left.networks.length > 0) console.log(`      (afterEach removed: ${[...left.domains, ...left.networks].join(', ')})`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  after(() => {
    console.log('\n  QEMU snapshot figures (TCG, 128 MiB guests)');
    for (const f of figures) console.log(`    ${f}`);
  });

  it('2 VMs: two checkpoints while running (the counters keep growing), suspend + restore carries them on, a flipped byte is detected', async () => {
    const { m, snaps } = await open();
    const status = await m.deploy(spec(PAIR, 2));
    const consoles = status.vms.map((v) => v.console);
    for (const c of consoles) await tickAbove(c, 2);

    // Two checkpoints: the guests keep counting through them, never restarting.
    for (const id of [`${PAIR}-c1`, `${PAIR}-c2`]) {
      const before = consoles.map(lastTick);
      const snap = await snaps.take({ jobId: PAIR, snapshotId: id, kind: 'checkpoint' });
      expect(snap.vms.map((v) => v.name)).to.deep.equal(['vm-0', 'vm-1']);
      expect(Number(snap.totalBytes)).to.be.greaterThan(50e6); // two 128 MiB guests' memory
      for (const d of status.vms) expect(await domState(d.domain)).to.equal('running');
      for (const [i, c] of consoles.entries()) {
        const after = await tickAbove(c, (before[i] as number) + 1);
        expect(after).to.be.greaterThan(before[i] as number);
        const all = ticks(c);
        // strictly increasing: the checkpoint neither repeated nor restarted the count
        expect(all.every((t, j) => j === 0 || t === (all[j - 1] as number) + 1), all.join(',')).to.equal(true);
      }
      const manifest = await store.manifest(id);
      expect(manifest.meta.method).to.equal('external');
      record(`2 VMs, checkpoint ${id} (external memory snapshot)`, snap, manifest.meta);
    }
    const second = await store.manifest(`${PAIR}-c2`);
    expect(second.newBytes).to.be.lessThan(second.totalBytes);

    // Suspend: nothing of the cluster left on the node; the snapshot holds the consoles too.
    const atSuspend = consoles.map(lastTick);
    const susp = await snaps.take({ jobId: PAIR, snapshotId: `${PAIR}-s1`, kind: 'suspend' });
    record('2 VMs, suspend', susp, (await store.manifest(`${PAIR}-s1`)).meta);
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    for (const c of consoles) expect(existsSync(c)).to.equal(false);
    await new Promise((r) => setTimeout(r, 3000)); // time passes while suspended

    // Restore: the counters carry on from where the snapshot took them.
    const restored = await snaps.restore(spec(PAIR, 2), `${PAIR}-s1`);
    expect(restored.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
    for (const d of restored.vms) {
      expect(await domState(d.domain)).to.equal('running');
      expect(await virsh('dominfo', d.domain)).to.match(/Persistent:\s+yes/);
      expect(await virsh('dumpxml', d.domain)).to.include(`<mac address='${spec(PAIR, 2).vms.find((v) => v.name === d.name)?.mac}'/>`);
    }
    const restoreEv = events.filter((e) => e.msg === 'restore: cluster restored').pop();
    figures.push(`2 VMs, restore from the store: fetch+verify ${String(restoreEv?.fetchMs)} ms, restore per VM ${JSON.stringify(restoreEv?.restoreMs)}, total ${String(restoreEv?.totalMs)} ms`);
    for (const [i, c] of consoles.entries()) {
      const suspended = atSuspend[i] as number;
      const after = await tickAbove(c, suspended + 2);
      const all = ticks(c);
      // The console came back from the snapshot (its history from the boot on) and the guest
      // carries on exactly where it was paused: one unbroken count, no restart at 1.
      expect(all[0], all.join(',')).to.be.at.most(3);
      expect(all.every((t, j) => j === 0 || t === (all[j - 1] as number) + 1), all.join(',')).to.equal(true);
      expect(after).to.be.greaterThan(suspended);
    }

    // A flipped byte in a chunk of a suspend snapshot: detected, named, nothing started.
    await snaps.take({ jobId: PAIR, snapshotId: `${PAIR}-s2`, kind: 'suspend' });
    const s2 = await store.manifest(`${PAIR}-s2`);
    const mem = s2.files.find((f) => f.name === 'vm-1/memory');
    // A chunk no other snapshot shares, so the earlier ones stay intact, and no other file of this
    // one (the two guests' memories share chunks: the error would name whichever read hit it first).
    const shared = new Set([
      ...(await store.manifest(`${PAIR}-s1`)).files.flatMap((f) => f.chunks.map((c) => c.hash)),
      ...s2.files.filter((f) => f.name !== 'vm-1/memory').flatMap((f) => f.chunks.map((c) => c.hash)),
    ]);
    const chunk = mem?.chunks.find((c) => !shared.has(c.hash))?.hash ?? '';
    expect(chunk).to.match(/^[0-9a-f]{64}$/);
    const plain = decodeChunkSync(readStored(storeDir(dataDir), chunk));
    plain[7] = (plain[7] as number) ^ 0x20;
    replaceChunkContent(storeDir(dataDir), chunk, plain);
    const err = await snaps.restore(spec(PAIR, 2), `${PAIR}-s2`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SnapshotDamagedError);
    expect(err).to.include({ snapshotId: `${PAIR}-s2`, file: 'vm-1/memory', chunk, code: 'DATA_LOSS' });
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    expect((await store.verify(`${PAIR}-s1`)).ok).to.equal(true);
  });

  it('1 VM and 2 VMs: downtime of an external memory snapshot against save + restore (figures)', async () => {
    for (const k of [1, 2]) {
      for (const method of ['external', 'save'] as const) {
        const job = `f${k}${method[0]}`;
        const { m, snaps } = await open(method);
        const status = await m.deploy(spec(job, k));
        for (const v of status.vms) await tickAbove(v.console, 2);
        for (const n of [1, 2]) {
          const before = status.vms.map((v) => lastTick(v.console));
          const snap = await snaps.take({ jobId: job, snapshotId: `${job}-${n}`, kind: 'checkpoint' });
          record(`${k} VM${k > 1 ? 's' : ''}, checkpoint ${n}, ${method === 'external' ? 'external memory snapshot' : 'save + restore'}`, snap, (await store.manifest(`${job}-${n}`)).meta);
          for (const [i, v] of status.vms.entries()) await tickAbove(v.console, (before[i] as number) + 1);
        }
        await m.destroy(job);
      }
    }
  });

  it('an agent killed (SIGKILL) in the middle of a capture: at restart the paused VMs run again, partial files go, no snapshot', async () => {
    const { m } = await open();
    const status = await m.deploy(spec(KILL, 2));
    for (const v of status.vms) await tickAbove(v.console, 2);
    // Another process plays the agent that dies: killed 150 ms into the first memory dump.
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('./snapshot-child.js', import.meta.url)),
        JSON.stringify({ site, dataDir, nodes, images, jobId: KILL, snapshotId: `${KILL}-1`, kind: 'checkpoint' }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await waitFor(`the child to start dumping (stderr: ${err})`, () => out.includes('dumping'), 60_000, 10);
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await exited;
    expect(out, 'the capture must have been cut short').to.not.include('taken');
    const states = await Promise.all(status.vms.map((v) => domState(v.domain)));
    expect(states, 'left paused by the dead agent').to.include('paused');
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([`${KILL}-1`]);

    // The restarted agent's first step.
    const { snaps } = await open();
    const reports = await snaps.recover();
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ snapshotId: `${KILL}-1`, job: KILL, committed: false, removedCluster: false });
    expect(reports[0]?.problems).to.deep.equal([]);
    expect(reports[0]?.resumed.length).to.equal(states.filter((s) => s === 'paused').length);
    figures.push(`killed mid-capture (states ${states.join('/')}): recovery resumed ${reports[0]?.resumed.join(', ')}`);
    for (const v of status.vms) expect(await domState(v.domain)).to.equal('running');
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([]);
    expect((await store.list(KILL)).length).to.equal(0);
    for (const v of status.vms) {
      const t = lastTick(v.console);
      await tickAbove(v.console, t + 1);
    }
    // And the job can be checkpointed again.
    await snaps.take({ jobId: KILL, snapshotId: `${KILL}-2`, kind: 'checkpoint' });
  });

  it('restores with another MAC and address (a new lease): the NIC is swapped and the guest takes the new address, counting on', async () => {
    const { m, snaps } = await open();
    const status = await m.deploy(spec(MOVED, 1));
    const vm = status.vms[0];
    const consolePath = vm?.console ?? '';
    await waitFor('a DHCP address', () => readFileSync(consolePath, 'utf8').includes(`,10.${octet}.0.2/29`), GUEST_WAIT_MS, 200);
    await snaps.take({ jobId: MOVED, snapshotId: `${MOVED}-1`, kind: 'suspend' });
    const atSuspend = lastTick(consolePath);
    const oldMac = spec(MOVED, 1).vms[0]?.mac ?? '';
    const oldOctet = octet;
    octet = oldOctet === 250 ? 159 : oldOctet + 1;
    const next = spec(MOVED, 1);
    const nvm = next.vms[0];
    const t0 = Date.now();
    const restored = await snaps.restore(next, `${MOVED}-1`);
    const restoreMs = Date.now() - t0;
    expect(restored.vms.map((v) => v.state)).to.deep.equal(['RUNNING']);
    const xml = await virsh('dumpxml', vm?.domain ?? '');
    expect(xml).to.include(`<mac address='${nvm?.mac}'/>`);
    expect(xml).to.not.include(`<mac address='${oldMac}'/>`);
    const want = `${nvm?.mac},${nvm?.ip}/29`;
    const t1 = Date.now();
    await waitFor(`a tick with ${want}`, () => readFileSync(consolePath, 'utf8').split('\n').some((l) => l.includes(want)), GUEST_WAIT_MS, 200);
    figures.push(`1 VM, restore with a new MAC (NIC swap): ${restoreMs} ms to running, new address on the console ${Date.now() - t1} ms later`);
    const all = ticks(consolePath);
    expect(all.every((t, j) => j === 0 || t === (all[j - 1] as number) + 1), all.join(',')).to.equal(true);
    expect(lastTick(consolePath)).to.be.greaterThan(atSuspend);
    expect(await virsh('dumpxml', '--inactive', vm?.domain ?? '')).to.include(`<mac address='${nvm?.mac}'/>`);
  });

  it('a VM on a qcow2 overlay: its disk is captured with its memory and put back by a restore', async () => {
    const { m, snaps } = await open();
    const status = await m.deploy(spec(DISKY, 1, 'blank'));
    const vm = status.vms[0];
    const overlay = m.overlayPath(vm?.domain ?? '');
    expect(existsSync(overlay)).to.equal(true);
    await new Promise((r) => setTimeout(r, 2000));
    const snap = await snaps.take({ jobId: DISKY, snapshotId: `${DISKY}-1`, kind: 'suspend' });
    const files = (await store.manifest(`${DISKY}-1`)).files.map((f) => f.name).sort();
    expect(files).to.include('vm-0/disk-vda.qcow2').and.include('vm-0/memory');
    expect(existsSync(overlay)).to.equal(false);
    expect(Number(snap.downtimeMs)).to.be.at.least(0);
    const restored = await snaps.restore(spec(DISKY, 1, 'blank'), `${DISKY}-1`);
    expect(restored.vms.map((v) => v.state)).to.deep.equal(['RUNNING']);
    expect(existsSync(overlay)).to.equal(true);
    await run('qemu-img', ['check', '-U', overlay]);
    expect(await virsh('domblklist', vm?.domain ?? '')).to.include(overlay);
  });
});
