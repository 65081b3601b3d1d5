// A move on real QEMU (qemu:///system): a 2-VM cluster of brine's test guest migrated from one site
// to another through the coordinator, checked against the guests' own consoles and libvirt's view.
// Run by scripts/test-qemu.sh after setup-qemu.sh, like real-vms.test.ts (same per-run site names,
// pools and cleanup of only what belongs to this run).
//
// The guest prints `tick N IFACE=MAC,IP/PREFIX` once a second: after the move its counter carries on
// from where the final snapshot took it (not from 1), and its only NIC shows the MAC and IP that
// `brine show` reports at the destination (the agent swapped the NIC; the guest's DHCP client took
// the new address). Then `brine suspend` + `brine resume` of the same job through the CLI: while
// SUSPENDED libvirt holds no domain of it; resumed, each guest counts on above the last tick seen
// before the suspend, on the same MAC and IP (the job keeps its leases while suspended).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, type CliResult } from '../helpers/cli.js';
import { REPO_ROOT, TestGrid, waitFor } from '../helpers/grid.js';
import { hypervisorLogs } from '../../site-agent/clusters.js';
import { domainName, networkName, parseVmMetadata } from '../../site-agent/domain-xml.js';
import type { Job, Lease } from '../../src/shared/proto.js';

const URI = 'qemu:///system';
const GUEST = join(REPO_ROOT, '.brine', 'guest');
const GUEST_WAIT_MS = 120_000;
const run = promisify(execFile);

async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', URI, ...args], { timeout: 60_000 });
  return stdout;
}
const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/**
 * brine's domains of these sites, by their metadata: domain names carry no site (`brine-<job>-<vm>`),
 * so only the metadata tells this run's domains from anyone else's on this libvirtd.
 */
async function domainsOf(sites: string[], job?: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of lines(await virsh('list', '--all', '--name')).filter((n) => n.startsWith('brine-'))) {
    const meta = parseVmMetadata(await virsh('dumpxml', d).catch(() => ''));
    if (meta && sites.includes(meta.site) && (job === undefined || meta.job === job)) out.push(d);
  }
  return out;
}

interface Tick {
  n: number;
  ifaces: Record<string, string>;
  line: string;
}

function readTicks(file: string): Tick[] {
  if (!existsSync(file)) return [];
  const ticks: Tick[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/\r/g, '').trim();
    const m = /^tick (\d+)((?: \S+=\S*)*)$/.exec(line);
    if (!m) continue;
    const ifaces: Record<string, string> = {};
    for (const tok of (m[2] ?? '').trim().split(' ').filter(Boolean)) {
      const eq = tok.indexOf('=');
      ifaces[tok.slice(0, eq)] = tok.slice(eq + 1);
    }
    ticks.push({ n: Number(m[1]), ifaces, line });
  }
  return ticks;
}

function tail(file: string, n = 15): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  return readFileSync(file, 'utf8').replace(/\r/g, '').split('\n').slice(-n).join('\n');
}

async function tickWithAddress(file: string, mac: string, ipCidr: string, after = 0): Promise<Tick> {
  try {
    return await waitFor(`a tick with eth0=${mac},${ipCidr} on ${file}`, () => readTicks(file).find((t) => t.n > after && t.ifaces.eth0 === `${mac},${ipCidr}`), GUEST_WAIT_MS, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast console lines:\n${tail(file)}`);
  }
}

describe('a move on real QEMU (QEMU tier)', function () {
  this.timeout(600_000);
  let grid: TestGrid;
  let siteA = '';
  let siteB = '';
  let octet = 0;
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 500_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  /** networks carry the site (`brine-<site>-<job>`); domains do not (see domainsOf) */
  const ofSite = (site: string) => (name: string) => name.startsWith(`brine-${site}-`);

  before(async () => {
    for (const f of ['vmlinuz', 'initrd.img', 'cmdline']) {
      if (!existsSync(join(GUEST, f))) throw new Error(`${join(GUEST, f)} is missing: run scripts/setup-qemu.sh (it builds the test guest)`);
    }
    await virsh('version');
  });

  beforeEach(async () => {
    const tag = `qm${randomBytes(4).toString('hex')}`;
    siteA = `${tag}-a`;
    siteB = `${tag}-b`;
    octet = 160 + ((randomBytes(1)[0] as number) % 80);
    const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
    const cmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
    const images = { tiny: { kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline } };
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '10s' });
    for (const [i, site] of [siteA, siteB].entries()) {
      await grid.startAgent({
        name: site,
        nodes: [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 2, memoryMiB: 2048 })),
        images,
        subnetPool: `10.${octet}.${i * 4}.0/22`,
        macRange: `02:b4:${macByte}:${i}0:00:00/32`,
        // no background replica: the move itself must carry the snapshot
        extra: 'pollInterval: 500ms\nsnapshots: { every: 1h, keep: 2, replicas: 0 }',
      });
    }
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
    const ours = (name: string): boolean => ofSite(siteA)(name) || ofSite(siteB)(name);
    for (const d of await domainsOf([siteA, siteB])) {
      await virsh('destroy', d).catch(() => '');
      await virsh('undefine', d).catch(() => '');
      for (const f of hypervisorLogs(URI, d)) await run('rm', ['-f', f]).catch(() => undefined);
    }
    for (const n of lines(await virsh('net-list', '--all', '--name')).filter(ours)) {
      await virsh('net-destroy', n).catch(() => '');
      await virsh('net-undefine', n).catch(() => '');
    }
  });

  it('a 2-VM job migrated site-a → site-b keeps counting, on the new MACs and IPs brine show reports; site-a keeps nothing; suspend + resume carries the counter on', async () => {
    const s = await cli('submit', '--name', 'mv', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', siteA, '--wait', '--timeout', '4m', '--json');
    expect(s.code, s.stderr).to.equal(0);
    const before = await show(s.json<Job>().id);
    const prefixA = before.subnet.split('/')[1];
    const seen = new Map<string, number>();
    for (const vm of before.vms) seen.set(vm.name, (await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefixA}`, 2)).n);

    const t0 = Date.now();
    const m = await cli('migrate', before.id, '--to', siteB, '--json');
    expect(m.code, m.stderr).to.equal(0);
    const moveSec = ((Date.now() - t0) / 1000).toFixed(1);
    const after = await show(before.id);
    expect(after).to.deep.include({ state: 'RUNNING', site: siteB });
    expect(after.subnet.startsWith(`10.${octet}.4.`), after.subnet).to.equal(true);
    const prefixB = after.subnet.split('/')[1];
    for (const vm of after.vms) {
      const old = before.vms.find((v) => v.name === vm.name);
      expect(vm.mac).to.not.equal(old?.mac);
      expect(vm.ip).to.not.equal(old?.ip);
      const domain = domainName(after.id, vm.name);
      expect((await virsh('domstate', domain)).trim()).to.equal('running');
      const xml = await virsh('dumpxml', domain);
      expect(xml).to.include(`<mac address='${vm.mac}'/>`);
      expect(parseVmMetadata(xml), "the restored domain is site-b's").to.deep.include({ site: siteB, job: after.id, vm: vm.name });
      // the console came along (restored from the snapshot) and the guest counts on from where it
      // was: a tick on the new address above what it had shown before the move
      const t = await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefixB}`, seen.get(vm.name) ?? 0);
      expect(Object.keys(t.ifaces), t.line).to.deep.equal(['eth0']);
      const counts = readTicks(vm.console).map((x) => x.n);
      expect(counts[0], 'the console history came along').to.be.lessThan(seen.get(vm.name) ?? 0);
      const restarts = counts.filter((n, i) => i > 0 && n < (counts[i - 1] as number));
      expect(restarts, 'the counter never went back (no reboot)').to.deep.equal([]);
    }
    console.log(`      move of 2 VMs ${siteA} → ${siteB}: ${moveSec} s (snapshot, transfer, restore, NIC swap)`);

    // site-a's libvirt holds nothing of it, and its addresses are free
    await waitFor('site-a to hold nothing of the job', async () => {
      const doms = await domainsOf([siteA], after.id);
      const nets = lines(await virsh('net-list', '--all', '--name')).filter((n) => n === networkName(siteA, after.id));
      return doms.length === 0 && nets.length === 0;
    }, 60_000, 500);
    const leases = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === after.id);
    expect(leases.map((l) => l.site)).to.deep.equal([siteB, siteB]);

    // Suspend + resume through the CLI, at site-b where the job now runs.
    const beforeSuspend = new Map<string, number>();
    for (const vm of after.vms) beforeSuspend.set(vm.name, (await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefixB}`, seen.get(vm.name) ?? 0)).n);
    const t1 = Date.now();
    const sp = await cli('suspend', after.id, '--json');
    expect(sp.code, sp.stderr).to.equal(0);
    const suspendSec = ((Date.now() - t1) / 1000).toFixed(1);
    expect(sp.json<Job>().state).to.equal('SUSPENDED');
    expect((await show(after.id)).state).to.equal('SUSPENDED');
    expect(await domainsOf([siteA, siteB], after.id), 'libvirt holds no domain of a SUSPENDED job').to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 2000)); // time passes while suspended
    const t2 = Date.now();
    const rs = await cli('resume', after.id, '--json');
    expect(rs.code, rs.stderr).to.equal(0);
    const resumed = await waitFor(`${after.id} RUNNING after resume`, async () => {
      const j = await show(after.id);
      return j.state === 'RUNNING' && j;
    }, GUEST_WAIT_MS, 250);
    const resumeSec = ((Date.now() - t2) / 1000).toFixed(1);
    expect(resumed.site).to.equal(siteB);
    expect(resumed.subnet).to.equal(after.subnet);
    expect(resumed.vms.map((v) => [v.name, v.mac, v.ip]), 'same MACs and IPs after resume').to.deep.equal(after.vms.map((v) => [v.name, v.mac, v.ip]));
    const resumedDomains = (await domainsOf([siteA, siteB], after.id)).sort();
    expect(resumedDomains).to.deep.equal(after.vms.map((v) => domainName(after.id, v.name)).sort());
    for (const vm of resumed.vms) {
      const domain = domainName(after.id, vm.name);
      expect((await virsh('domstate', domain)).trim()).to.equal('running');
      expect(await virsh('dumpxml', domain)).to.include(`<mac address='${vm.mac}'/>`);
      // counting on above the last tick seen before the suspend, on the address brine show reports
      const last = beforeSuspend.get(vm.name) ?? 0;
      const t = await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefixB}`, last);
      expect(Object.keys(t.ifaces), t.line).to.deep.equal(['eth0']);
      const counts = readTicks(vm.console).map((x) => x.n);
      const restarts = counts.filter((n, i) => i > 0 && n < (counts[i - 1] as number));
      expect(restarts, `the counter never went back (no reboot): ${counts.join(',')}`).to.deep.equal([]);
      expect(counts[counts.length - 1]).to.be.greaterThan(last);
    }
    console.log(`      suspend of 2 VMs on ${siteB}: ${suspendSec} s; resume: ${resumeSec} s to RUNNING`);
  });
});
