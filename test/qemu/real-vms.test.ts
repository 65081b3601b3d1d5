// The real-VM tier: a coordinator and two agents as real processes, both sites on qemu:///system
// (one libvirtd shared by the two sites, as on a small grid), running brine's test guest
// (scripts/build-test-guest.sh) under QEMU. Run by scripts/test-qemu.sh (after setup-qemu.sh), last
// in `npm test`.
//
// What is checked against libvirt's own view (virsh), never against brine's word alone: guests boot
// and take exactly the addresses `brine show` reports, an agent killed with -9 and started again
// adopts the running domains (same UUIDs, the guests count on), a guest that powers itself off
// completes its job, cancel and `brine-agent --cleanup` leave no domain, network, bridge, seed, console,
// disk overlay or QEMU log.
//
// Each test runs its own grid with site names unique to the run (`qa<random>-a`, `qa<random>-b`),
// and afterEach removes whatever libvirt still holds under those names, even after a failure —
// and nothing else, so other users' VMs on the same libvirtd are never touched.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { REPO_ROOT, TestGrid, waitFor, type SiteOptions } from '../helpers/grid.js';
import { hypervisorLogs } from '../../site-agent/clusters.js';
import { loadSiteConfig } from '../../site-agent/config.js';
import { domainName, networkName, parseVmMetadata } from '../../site-agent/domain-xml.js';
import { bridgeName } from '../../site-agent/network-xml.js';
import type { Job } from '../../src/shared/proto.js';

const URI = 'qemu:///system';
const GUEST = join(REPO_ROOT, '.brine', 'guest');
/** seconds after which a `tiny-off` guest powers itself off */
const POWEROFF_AFTER = 8;
/** bound on every wait for a guest (boot, DHCP, poweroff): TCG on 2 cores, with other VMs booting */
const GUEST_WAIT_MS = 120_000;

const run = promisify(execFile);

async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', URI, ...args], { timeout: 60_000 });
  return stdout;
}

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
const libvirtDomains = async (): Promise<string[]> => lines(await virsh('list', '--all', '--name'));
const libvirtNetworks = async (): Promise<string[]> => lines(await virsh('net-list', '--all', '--name'));

/**
 * brine's domains of these sites (of one job), by their metadata: domain names carry no site
 * (`brine-<job>-<vm>`), so only the metadata tells this run's domains from anyone else's.
 */
async function domainsOf(sites: string[], job?: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await libvirtDomains()).filter((n) => n.startsWith('brine-'))) {
    const meta = parseVmMetadata(await virsh('dumpxml', d).catch(() => ''));
    if (meta && sites.includes(meta.site) && (job === undefined || meta.job === job)) out.push(d);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The guest's console: `tick N IFACE=MAC,IP/PREFIX …` once a second.

interface Tick {
  n: number;
  /** IFACE → "MAC,IP/PREFIX" (IP/PREFIX empty while it has no address) */
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

/** Notes when each console file under some dirs first shows a tick line (polled every 50 ms). */
class FirstTickWatcher {
  readonly firstTickAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dirs: string[]) {}

  start(): this {
    const look = (): void => {
      for (const dir of this.dirs) {
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          continue;
        }
        for (const name of names) {
          const file = join(dir, name);
          if (this.firstTickAt.has(file)) continue;
          try {
            if (/^tick \d+/m.test(readFileSync(file, 'utf8'))) this.firstTickAt.set(file, Date.now());
          } catch {
            // removed meanwhile
          }
        }
      }
      this.timer = setTimeout(look, 50);
    };
    look();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Figures for the closing note, printed once at the end of the tier.

const tierStart = Date.now();
const bootFigures: string[] = [];
/** deploy call (agent) → first tick on the console, in ms, per VM */
const bootToTickMs: number[] = [];

interface LogEvent {
  time: number;
  msg: string;
  job?: string;
  domain?: string;
  startMs?: number;
  clusters?: string[];
}

function agentEvents(grid: TestGrid, site: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of (grid.procs.get(site)?.log ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as LogEvent);
    } catch {
      // a partial line
    }
  }
  return events;
}

// ---------------------------------------------------------------------------------------------

describe('config/qemu: the two-site demo grid on real QEMU', () => {
  it('has a coordinator and two sites on qemu:///system, with the test guest as image tiny', () => {
    const coordinator = parseYaml(readFileSync(join(REPO_ROOT, 'config/qemu/coordinator.yaml'), 'utf8')) as { listen: string; dataDir: string };
    expect(coordinator.listen).to.equal('127.0.0.1:7800');
    expect(coordinator.dataDir).to.match(/^\.brine\/qemu\//);
    const guestCmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
    const sites = ['site-a', 'site-b'].map((s) => loadSiteConfig(join(REPO_ROOT, 'config/qemu', `${s}.yaml`)));
    sites.forEach((site, i) => {
      expect(site.site).to.equal(['site-a', 'site-b'][i]);
      expect(site.coordinator).to.deep.equal([coordinator.listen]);
      expect(site.nodes.every((n) => n.uri === URI)).to.equal(true);
      expect(site.dataDir).to.equal(resolve(`.brine/qemu/${site.site}`));
      const tiny = site.images.tiny;
      expect(tiny).to.deep.equal({
        kind: 'kernel',
        kernel: resolve('.brine/guest/vmlinuz'),
        initrd: resolve('.brine/guest/initrd.img'),
        cmdline: guestCmdline,
      });
    });
    expect(sites[0]?.listen).to.not.equal(sites[1]?.listen);
    expect(sites[0]?.network.subnetPool).to.not.equal(sites[1]?.network.subnetPool);
    expect(sites[0]?.network.macRange).to.not.equal(sites[1]?.network.macRange);
  });
});

describe('real VMs on qemu:///system (QEMU tier)', function () {
  this.timeout(300_000);

  let cmdline = '';
  let grid: TestGrid;
  let siteA = '';
  let siteB = '';
  /** how each site's agent was started (to start it again the same way) */
  const agents = new Map<string, { site: SiteOptions; args: string[] }>();

  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 280_000 });
  const show = async (id: string): Promise<Job> => {
    const r = await cli('show', id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    return r.json<Job>();
  };
  const consoleDir = (site: string): string => join(grid.siteDataDir(site), 'consoles');
  /** where the agent keeps each VM's qcow2 overlay of a disk image */
  const disksDir = (site: string): string => join(grid.siteDataDir(site), 'disks');
  /** a job's network (domains carry no site: see domainsOf) */
  const ofJob = (site: string, job: string) => (name: string) => name === networkName(site, job);

  /** Submits with --wait while watching the consoles; records boot-to-first-tick for each VM. */
  async function submit(args: string[]): Promise<Job> {
    const watcher = new FirstTickWatcher([consoleDir(siteA), consoleDir(siteB)]).start();
    try {
      const r = await spawnCli(
        ['--coordinator', grid.coordinator, 'submit', '--cpus', '1', '--memory', '128', '--wait', '--timeout', '4m', '--json', ...args],
        { timeoutMs: 280_000 },
      ).result;
      expect(r.code, `submit ${args.join(' ')}: ${r.stderr}`).to.equal(0);
      const job = r.json<Job>();
      if (job.state !== 'RUNNING') return job;
      // Every VM's first tick, then the figures: deploy call → first tick, start call → first tick.
      const deploy = agentEvents(grid, job.site).find((e) => e.msg === 'deploying cluster' && e.job === job.id);
      for (const vm of job.vms) {
        const first = await waitFor(`a first tick on ${vm.console}`, () => watcher.firstTickAt.get(vm.console), GUEST_WAIT_MS, 50);
        const started = agentEvents(grid, job.site).find((e) => e.msg === 'VM started' && e.domain === domainName(job.id, vm.name));
        if (deploy) bootToTickMs.push(first - deploy.time);
        bootFigures.push(
          `${vm.name} of ${job.id}: deploy call → first tick ${deploy ? ((first - deploy.time) / 1000).toFixed(2) : '?'} s` +
            (started?.startMs !== undefined ? `, start call → first tick ${((first - (started.time - started.startMs)) / 1000).toFixed(2)} s` : ''),
        );
      }
      return job;
    } finally {
      watcher.stop();
    }
  }

  /** Waits until the guest's console shows a tick with exactly this one NIC and address. */
  async function tickWithAddress(file: string, mac: string, ipCidr: string, after = 0): Promise<Tick> {
    try {
      return await waitFor(
        `a tick with eth0=${mac},${ipCidr} on ${file}`,
        () => readTicks(file).find((t) => t.n > after && t.ifaces.eth0 === `${mac},${ipCidr}`),
        GUEST_WAIT_MS,
        200,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlast console lines:\n${tail(file)}`);
    }
  }

  /** Everything libvirt and the host still hold of one job: all must be empty after it ends. */
  async function leftovers(site: string, job: Job): Promise<string[]> {
    const left: string[] = [];
    const mine = ofJob(site, job.id);
    for (const d of await domainsOf([site], job.id)) left.push(`domain ${d}`);
    for (const n of (await libvirtNetworks()).filter(mine)) left.push(`network ${n}`);
    const bridge = bridgeName(site, job.id);
    if (existsSync(`/sys/class/net/${bridge}`)) left.push(`bridge ${bridge}`);
    if (existsSync(`/var/lib/libvirt/dnsmasq/${networkName(site, job.id)}.conf`)) left.push(`dnsmasq config of ${networkName(site, job.id)}`);
    for (const vm of job.vms) {
      const domain = domainName(job.id, vm.name);
      if (vm.console && existsSync(vm.console)) left.push(`console ${vm.console}`);
      for (const f of hypervisorLogs(URI, domain)) if (existsSync(f)) left.push(`QEMU log ${f}`);
      // the VM's disk overlay (`<domain>.qcow2`) and anything else of it under disks/
      const disks = existsSync(disksDir(site)) ? readdirSync(disksDir(site)) : [];
      for (const f of disks.filter((n) => n.startsWith(`${domain}.`))) left.push(`disk ${join(disksDir(site), f)}`);
      // its cloud-init seed (issue 12)
      const seed = join(grid.siteDataDir(site), 'seeds', `${domain}.iso`);
      if (existsSync(seed)) left.push(`seed ${seed}`);
    }
    return left;
  }

  async function expectNothingLeft(site: string, job: Job, what: string): Promise<void> {
    let left: string[] = [];
    try {
      await waitFor(`${what} to leave nothing of ${job.id}`, async () => (left = await leftovers(site, job)).length === 0, 60_000, 250);
    } catch {
      expect(left, `${what} left these behind`).to.deep.equal([]);
    }
  }

  before(async function () {
    for (const f of ['vmlinuz', 'initrd.img', 'cmdline']) {
      if (!existsSync(join(GUEST, f))) throw new Error(`${join(GUEST, f)} is missing: run scripts/setup-qemu.sh (it builds the test guest)`);
    }
    cmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
    try {
      await virsh('version');
    } catch (err) {
      throw new Error(`libvirtd does not answer on ${URI}: run scripts/setup-qemu.sh (${(err as Error).message})`);
    }
  });

  beforeEach(async function () {
    const tag = `qa${randomBytes(4).toString('hex')}`;
    siteA = `${tag}-a`;
    siteB = `${tag}-b`;
    // Pools and MAC ranges of this run only: libvirt refuses a network whose subnet is already
    // routed on the host (another grid, the qemu demo on 10.146/10.147).
    const octet = 160 + (randomBytes(1)[0] as number) % 80;
    const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
    const images = {
      tiny: { kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline },
      'tiny-off': { kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline: `${cmdline} brine.poweroff=${POWEROFF_AFTER}` },
    };
    grid = new TestGrid();
    // A disk image (the overlay test): a blank qcow2 base, as in snapshots.test.ts — the guest
    // then sits in the firmware's boot loop, which is all an overlay needs.
    const base = join(grid.dir, 'base.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    await grid.startCoordinator({ heartbeatTimeout: '10s' });
    agents.clear();
    for (const [i, site] of [siteA, siteB].entries()) {
      const options: SiteOptions = {
        name: site,
        nodes: [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 2, memoryMiB: 2048 })),
        images: { ...images, blank: { disk: base } },
        subnetPool: `10.${octet}.${i * 4}.0/22`,
        macRange: `02:b2:${macByte}:${i}0:00:00/32`,
        extra: 'pollInterval: 500ms',
      };
      // site A stops with --cleanup on SIGTERM (the last test); afterEach SIGKILLs everything.
      const args = site === siteA ? ['--cleanup'] : [];
      agents.set(site, { site: options, args });
      await grid.startAgent(options, { args });
    }
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    await grid.close(failed);
    // Whatever libvirt still holds of this test's two sites (after a failure), and only that.
    const prefixes = [siteA, siteB].map((s) => `brine-${s}-`);
    const ours = (name: string): boolean => prefixes.some((p) => name.startsWith(p));
    const removed: string[] = [];
    for (const d of await domainsOf([siteA, siteB])) {
      await virsh('destroy', d).catch(() => '');
      await virsh('undefine', d).catch(() => '');
      for (const f of hypervisorLogs(URI, d)) await run('rm', ['-f', f]).catch(() => undefined);
      removed.push(d);
    }
    for (const n of (await libvirtNetworks()).filter(ours)) {
      await virsh('net-destroy', n).catch(() => '');
      await virsh('net-undefine', n).catch(() => '');
      removed.push(n);
    }
    if (removed.length > 0) console.log(`      (afterEach removed from libvirt: ${removed.join(', ')})`);
  });

  after(() => {
    const wall = (Date.now() - tierStart) / 1000;
    const sorted = [...bootToTickMs].sort((a, b) => a - b);
    const median = sorted.length > 0 ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) / 1000 : NaN;
    console.log('\n  QEMU tier figures');
    for (const f of bootFigures) console.log(`    ${f}`);
    console.log(`    boot-to-first-tick (deploy call → first console tick), ${sorted.length} VMs: ` +
      (sorted.length > 0
        ? `min ${((sorted[0] as number) / 1000).toFixed(2)} s, median ${median.toFixed(2)} s, max ${((sorted[sorted.length - 1] as number) / 1000).toFixed(2)} s`
        : 'none measured'));
    console.log(`    tier wall time (mocha, this file): ${wall.toFixed(1)} s`);
  });

  it('runs a 2-VM job: RUNNING, and each guest ticks with exactly the MAC and IP brine show reports', async () => {
    const submitted = await submit(['--name', 'pair', '--vms', '2', '--image', 'tiny']);
    expect(submitted.state).to.equal('RUNNING');
    const job = await show(submitted.id);
    expect(job.vms).to.have.length(2);
    const prefix = job.subnet.split('/')[1];
    const running = await libvirtDomains();
    for (const vm of job.vms) {
      const domain = domainName(job.id, vm.name);
      expect(running, 'libvirt runs the VM').to.include(domain);
      expect((await virsh('domstate', domain)).trim()).to.equal('running');
      expect(vm.state).to.equal('RUNNING');
      expect(vm.console).to.equal(join(consoleDir(job.site), `${domain}.log`));

      // The domain as libvirt holds it: the agent's choices for real QEMU.
      const xml = await virsh('dumpxml', domain);
      expect(xml).to.match(/machine='pc-i440fx/);
      expect(xml).to.include('<acpi/>');
      expect(xml).to.match(/<controller type='usb' index='0' model='none'[ />]/);
      expect(xml).to.include(`<source path='${vm.console}' append='on'/>`);
      expect(xml).to.include(`<mac address='${vm.mac}'/>`);

      // The guest: its only NIC has the leased MAC and got exactly the leased IP by DHCP…
      const first = await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefix}`);
      expect(Object.keys(first.ifaces), first.line).to.deep.equal(['eth0']);
      // …and it keeps running: the counter grows, the address stays.
      const later = await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefix}`, first.n + 2);
      expect(later.n).to.be.greaterThan(first.n);
    }
    // Two guests, two distinct addresses, both on the job's subnet.
    expect(new Set(job.vms.map((v) => v.ip)).size).to.equal(2);
    expect(new Set(job.vms.map((v) => v.mac)).size).to.equal(2);

    // The site's agent killed with -9 and started again with the same config adopts the running
    // domains: the same ones (libvirt UUIDs), none added, the guests never rebooted.
    const domains = job.vms.map((vm) => domainName(job.id, vm.name)).sort();
    const uuids = await Promise.all(domains.map(async (d) => (await virsh('domuuid', d)).trim()));
    expect(await domainsOf([siteA, siteB], job.id).then((d) => d.sort())).to.deep.equal(domains);
    await grid.kill(job.site, 'SIGKILL');
    const atKill = new Map(job.vms.map((vm) => [vm.name, readTicks(vm.console).pop()?.n ?? 0]));
    const agent = agents.get(job.site);
    if (!agent) throw new Error(`no agent options for ${job.site}`);
    const t0 = Date.now();
    await grid.startAgent(agent.site, { args: agent.args });
    const restartSec = ((Date.now() - t0) / 1000).toFixed(1);
    const events = agentEvents(grid, job.site);
    expect(events.filter((e) => e.msg === 'adopted cluster already in libvirt' && e.job === job.id), 'the new agent logs the adoption').to.have.length(1);
    expect(events.find((e) => e.msg === 'adopted running clusters')?.clusters).to.deep.equal([job.id]);
    const again = await waitFor(`${job.id} RUNNING after the agent restart`, async () => {
      const j = await show(job.id);
      return j.state === 'RUNNING' && j.vms.every((v) => v.state === 'RUNNING') && j;
    }, 30_000, 250);
    expect(again.site).to.equal(job.site);
    expect(again.vms.map((v) => [v.name, v.node, v.mac, v.ip])).to.deep.equal(job.vms.map((v) => [v.name, v.node, v.mac, v.ip]));
    for (const vm of job.vms) {
      // counting on from where it was when the agent died, on the same address, never from 1 again
      const t = await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefix}`, (atKill.get(vm.name) ?? 0) + 2);
      expect(Object.keys(t.ifaces), t.line).to.deep.equal(['eth0']);
      const counts = readTicks(vm.console).map((x) => x.n);
      const back = counts.filter((n, i) => i > 0 && n <= (counts[i - 1] as number));
      expect(back, `the counter never went back (no reboot): ${counts.join(',')}`).to.deep.equal([]);
    }
    // A few heartbeats later: still exactly these domains, same UUIDs, all running, none started anew.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await domainsOf([siteA, siteB], job.id).then((d) => d.sort()), 'no extra domain of the job').to.deep.equal(domains);
    expect(await Promise.all(domains.map(async (d) => (await virsh('domuuid', d)).trim()))).to.deep.equal(uuids);
    for (const d of domains) expect((await virsh('domstate', d)).trim()).to.equal('running');
    // (a retried deploy from the coordinator would be harmless: it leaves existing domains alone)
    expect(agentEvents(grid, job.site).filter((e) => e.msg === 'VM started'), 'the new agent started no VM').to.deep.equal([]);
    console.log(`      agent of ${job.site} killed (-9) and restarted: registered again in ${restartSec} s, adopted ${job.id}`);
  });

  it('cancel leaves nothing behind: domains, network, bridge, consoles, QEMU logs', async () => {
    const submitted = await submit(['--name', 'gone', '--vms', '2', '--image', 'tiny', '--site', siteA]);
    expect(submitted.state).to.equal('RUNNING');
    const job = await show(submitted.id);
    expect(job.site).to.equal(siteA);
    // All of it exists first (so that "gone" below means something).
    const before = await leftovers(siteA, job);
    for (const vm of job.vms) {
      const domain = domainName(job.id, vm.name);
      expect(before).to.include(`domain ${domain}`);
      expect(before).to.include(`console ${vm.console}`);
      expect(before).to.include(`QEMU log /var/log/libvirt/qemu/${domain}.log`);
    }
    expect(before).to.include(`network ${networkName(siteA, job.id)}`);
    expect(before).to.include(`bridge ${bridgeName(siteA, job.id)}`);

    const r = await cli('cancel', job.id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json<Job>().state).to.equal('CANCELLED');
    await expectNothingLeft(siteA, job, 'cancel');
    const leases = (await cli('addresses', '--json')).json<Array<{ job: string }>>();
    expect(leases.filter((l) => l.job === job.id)).to.deep.equal([]);
  });

  it('a job on a disk image: each VM runs on its own qcow2 overlay under <dataDir>/disks, removed by cancel', async () => {
    // Not through submit(): a blank disk never prints a tick.
    const s = await cli('submit', '--name', 'disky', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'blank', '--site', siteA, '--wait', '--timeout', '4m', '--json');
    expect(s.code, s.stderr).to.equal(0);
    const job = await show(s.json<Job>().id);
    expect(job.state).to.equal('RUNNING');
    const base = join(grid.dir, 'base.qcow2');
    const before = await leftovers(siteA, job);
    for (const vm of job.vms) {
      const domain = domainName(job.id, vm.name);
      const overlay = join(disksDir(siteA), `${domain}.qcow2`);
      expect(before).to.include(`disk ${overlay}`);
      expect((await virsh('domstate', domain)).trim()).to.equal('running');
      expect(await virsh('domblklist', domain)).to.include(overlay);
      // a qcow2 of its own, backed by the site's base image (which it never writes)
      const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', overlay]);
      expect(JSON.parse(stdout) as Record<string, unknown>).to.deep.include({ format: 'qcow2', 'backing-filename': base });
    }
    const r = await cli('cancel', job.id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json<Job>().state).to.equal('CANCELLED');
    await expectNothingLeft(siteA, job, 'cancel of a disk-image job');
    expect(existsSync(disksDir(siteA)) ? readdirSync(disksDir(siteA)) : [], `${disksDir(siteA)} after cancel`).to.deep.equal([]);
    expect(existsSync(base), 'the base image stays').to.equal(true);
  });

  it(`a job whose guests power themselves off (brine.poweroff=${POWEROFF_AFTER}) becomes COMPLETED, then nothing is left`, async () => {
    const submitted = await submit(['--name', 'brief', '--vms', '2', '--image', 'tiny-off']);
    expect(['RUNNING', 'COMPLETED']).to.include(submitted.state);
    const job = await show(submitted.id);
    // Ticks seen on the consoles while the guests run (the files go with the job).
    const maxTick = new Map<string, number>();
    const done = await waitFor(
      `${job.id} to be COMPLETED`,
      async () => {
        for (const vm of job.vms) {
          const n = readTicks(vm.console).pop()?.n;
          if (n !== undefined) maxTick.set(vm.name, Math.max(n, maxTick.get(vm.name) ?? 0));
        }
        const now = await show(job.id);
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(now.state) ? now : undefined;
      },
      GUEST_WAIT_MS,
      250,
    );
    expect(done.state, JSON.stringify(done.history)).to.equal('COMPLETED');
    const last = done.history[done.history.length - 1];
    expect(last?.reason).to.match(/shut down by themselves/);
    expect(done.history.map((h) => h.state)).to.include('RUNNING');
    // The guests did run and count before switching off (sampled, so the very last tick may be missed).
    for (const vm of job.vms) expect(maxTick.get(vm.name) ?? 0, `ticks seen on ${vm.name}`).to.be.at.least(2);
    await expectNothingLeft(job.site, done, 'a COMPLETED job');
  });

  it('brine-agent --cleanup stopped by SIGTERM destroys its clusters, and only its own', async () => {
    const a = await submit(['--name', 'mine', '--vms', '1', '--image', 'tiny', '--site', siteA]);
    const b = await submit(['--name', 'theirs', '--vms', '1', '--image', 'tiny', '--site', siteB]);
    expect([a.state, b.state]).to.deep.equal(['RUNNING', 'RUNNING']);
    const jobA = await show(a.id);
    const jobB = await show(b.id);
    const domainB = domainName(jobB.id, jobB.vms[0]?.name ?? '');
    const consoleB = jobB.vms[0]?.console ?? '';

    const code = await grid.kill(siteA, 'SIGTERM');
    expect(code, 'brine-agent exit code after SIGTERM').to.equal(0);
    // Gone at once (the agent exits only after its cleanup): no waiting.
    expect(await leftovers(siteA, jobA)).to.deep.equal([]);
    expect(await domainsOf([siteA])).to.deep.equal([]);
    expect((await libvirtNetworks()).filter((n) => n.startsWith(`brine-${siteA}-`))).to.deep.equal([]);
    expect(readdirSync(consoleDir(siteA))).to.deep.equal([]);

    // The other site, on the same libvirtd, is untouched and its guest keeps counting.
    expect((await virsh('domstate', domainB)).trim()).to.equal('running');
    expect(await libvirtNetworks()).to.include(networkName(siteB, jobB.id));
    const seen = readTicks(consoleB).pop()?.n ?? 0;
    const vmB = jobB.vms[0];
    await tickWithAddress(consoleB, vmB?.mac ?? '', `${vmB?.ip}/${jobB.subnet.split('/')[1]}`, seen + 1);
  });
});
