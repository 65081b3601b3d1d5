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
//
// Issue 12: the job is submitted with a user-data script that the test guest finds on its cloud-init
// seed and runs: each VM serves `NAME@IP#N` on TCP 7000 and, every 2 s, resolves its peer by name
// through the cluster network's DNS and fetches the peer's line by name. Both must work before the
// move and, on the new addresses, after it; and the seed disk keeps its device address.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { domainsOf, GUEST_WAIT_MS, lines, removeLeftovers, tail, tinyGuest, URI, virsh } from '../helpers/qemu.js';
import { domainName, networkName, parseVmMetadata } from '../../site-agent/domain-xml.js';
import type { Job, Lease } from '../../src/shared/proto.js';


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

/** The user-data of the move test: a TCP exchange between the two VMs, by name. */
const EXCHANGE = `#!/bin/sh
me=$(hostname)
case "$me" in *-0) peer="\${me%-0}-1" ;; *) peer="\${me%-1}-0" ;; esac
addr() { ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4; exit}' | cut -d/ -f1; }
( n=0; while :; do n=$((n + 1)); echo "$me@$(addr)#$n" | timeout 5 nc -l -p 7000 >/dev/null 2>&1; done ) &
while :; do
  ip=$(nslookup "$peer" 2>/dev/null | sed -n '/^Name:/,$ s/^Address[^:]*: *//p' | head -n1)
  r=$(timeout 3 nc "$peer" 7000 </dev/null 2>/dev/null)
  echo "ud $me peer=$peer resolved=\${ip:-none} got=\${r:-none}"
  sleep 2
done
`;

interface Exchange {
  me: string;
  peer: string;
  resolved: string;
  got: string;
  index: number;
}

function readExchanges(file: string): Exchange[] {
  if (!existsSync(file)) return [];
  const out: Exchange[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((raw, index) => {
    const m = /^ud (\S+) peer=(\S+) resolved=(\S+) got=(\S+)$/.exec(raw.replace(/\r/g, '').trim());
    if (m) out.push({ me: m[1] as string, peer: m[2] as string, resolved: m[3] as string, got: m[4] as string, index });
  });
  return out;
}

/** Waits for a line of `vm` that resolved its peer to `peerIp` and got the peer's answer from there. */
async function exchangeWith(file: string, peer: string, peerIp: string): Promise<Exchange> {
  try {
    return await waitFor(`an exchange with ${peer}@${peerIp} on ${file}`, () => readExchanges(file).find((e) => e.peer === peer && e.resolved === peerIp && e.got.startsWith(`${peer}@${peerIp}#`)), GUEST_WAIT_MS, 500);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast console lines:\n${tail(file)}`);
  }
}

/** The seed disk (target vdz) of a domain XML: its source file and its device address. */
function seedDisk(xml: string): { source: string; address: string } {
  const disk = [...xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)].map((m) => m[0]).find((d) => /<target dev='vdz'/.test(d)) ?? '';
  return { source: /<source file='([^']+)'/.exec(disk)?.[1] ?? '', address: /<address [^>]*\/>/.exec(disk)?.[0] ?? '' };
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

  before(async () => {
    tinyGuest(); // throws naming the script if the test guest is not built
    await virsh('version');
  });

  beforeEach(async () => {
    const tag = `qm${randomBytes(4).toString('hex')}`;
    siteA = `${tag}-a`;
    siteB = `${tag}-b`;
    octet = 160 + ((randomBytes(1)[0] as number) % 80);
    const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
    const images = tinyGuest();
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
    await removeLeftovers([siteA, siteB]);
  });

  it('a 2-VM job migrated site-a → site-b keeps counting, on the new MACs and IPs brine show reports; site-a keeps nothing; suspend + resume carries the counter on', async () => {
    const userData = join(grid.dir, 'exchange.sh');
    writeFileSync(userData, EXCHANGE);
    const s = await cli('submit', '--name', 'mv', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', siteA, '--user-data', userData, '--wait', '--timeout', '4m', '--json');
    expect(s.code, s.stderr).to.equal(0);
    const before = await show(s.json<Job>().id);
    const prefixA = before.subnet.split('/')[1];
    const seen = new Map<string, number>();
    for (const vm of before.vms) seen.set(vm.name, (await tickWithAddress(vm.console, vm.mac, `${vm.ip}/${prefixA}`, 2)).n);
    // the guest found its seed and named itself; the two VMs reach each other by name
    const peerOf = (job: Job, vm: string) => job.vms.find((v) => v.name !== vm) as Job['vms'][number];
    const seedsBefore = new Map<string, { source: string; address: string }>();
    for (const vm of before.vms) {
      expect(readFileSync(vm.console, 'utf8')).to.match(new RegExp(`brine-guest: cloud-init seed on /dev/vd[a-z], hostname ${vm.name}\\b`));
      const peer = peerOf(before, vm.name);
      await exchangeWith(vm.console, peer.name, peer.ip);
      const seed = seedDisk(await virsh('dumpxml', domainName(before.id, vm.name)));
      expect(seed.source).to.equal(join(grid.siteDataDir(siteA), 'seeds', `${domainName(before.id, vm.name)}.iso`));
      seedsBefore.set(vm.name, seed);
    }

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
      // the seed was built at site-b, on the same device as before
      const seed = seedDisk(xml);
      expect(seed.source).to.equal(join(grid.siteDataDir(siteB), 'seeds', `${domainName(after.id, vm.name)}.iso`));
      expect(existsSync(seed.source)).to.equal(true);
      expect(seed.address, 'the seed keeps its device address').to.equal(seedsBefore.get(vm.name)?.address);
    }
    // by name, on the new addresses: resolved and reached at site-b, never the old address after that
    for (const vm of after.vms) {
      const peer = peerOf(after, vm.name);
      const oldIp = peerOf(before, vm.name).ip;
      const first = await exchangeWith(vm.console, peer.name, peer.ip);
      await waitFor('two more exchanges', () => readExchanges(vm.console).filter((e) => e.index > first.index).length >= 2, GUEST_WAIT_MS, 500);
      const later = readExchanges(vm.console).filter((e) => e.index > first.index);
      expect(later.filter((e) => e.resolved === oldIp || e.got.includes(`@${oldIp}#`)), 'the old address is never reached after the move').to.deep.equal([]);
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

  // Issue 12's "Done when", the README's worked example: the shipped user-data
  // (contrib/examples/sum-of-squares.sh) on a 2-VM job with output disks, migrated while it works.
  it('the worked example: a 2-VM job resolves its peer by name on both sites, is migrated mid-run, completes at site-b; brine logs and brine output bring back all of it', async () => {
    const script = join(process.cwd(), 'contrib', 'examples', 'sum-of-squares.sh');
    const s = await cli('submit', '--name', 'sq', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', siteA, '--user-data', script, '--output-disk', '16M', '--wait', '--timeout', '4m', '--json');
    expect(s.code, s.stderr).to.equal(0);
    const before = await show(s.json<Job>().id);
    const peerOf = (job: Job, vm: string) => job.vms.find((v) => v.name !== vm) as Job['vms'][number];
    const stepAt = (text: string, peer: string, ip: string): number[] =>
      [...text.matchAll(new RegExp(`^step (\\d+)/60: ${peer} is at ${ip.replace(/\./g, '\\.')}$`, 'gm'))].map((m) => Number(m[1]));
    for (const vm of before.vms) {
      const peer = peerOf(before, vm.name);
      await waitFor(`${vm.name} to resolve ${peer.name} at site-a`, () => stepAt(readFileSync(vm.console, 'utf8').replace(/\r/g, ''), peer.name, peer.ip).some((n) => n >= 3), GUEST_WAIT_MS, 500).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\nlast console lines:\n${tail(vm.console)}`);
      });
    }
    const m = await cli('migrate', before.id, '--to', siteB, '--json');
    expect(m.code, m.stderr).to.equal(0);
    const after = await show(before.id);
    expect(after).to.deep.include({ state: 'RUNNING', site: siteB });
    const done = await waitFor(`${before.id} COMPLETED`, async () => {
      const j = await show(before.id);
      return (j.state === 'COMPLETED' || j.state === 'FAILED') && j;
    }, 300_000, 1000);
    expect(done.state, JSON.stringify(done.history)).to.equal('COMPLETED');
    expect(done.site).to.equal(siteB);

    // the whole console: the site-a part (came in the snapshot) and the site-b part, by name on each
    for (const vm of before.vms) {
      const logs = await cli('logs', before.id, '--vm', vm.name);
      expect(logs.code, logs.stderr).to.equal(0);
      const text = logs.stdout.replace(/\r/g, '');
      const peerA = peerOf(before, vm.name);
      const peerB = peerOf(after, vm.name);
      const atA = stepAt(text, peerA.name, peerA.ip);
      const atB = stepAt(text, peerB.name, peerB.ip);
      expect(atA.length, `${vm.name} resolved ${peerA.name} at site-a`).to.be.greaterThan(0);
      expect(atB.length, `${vm.name} resolved ${peerB.name} at site-b`).to.be.greaterThan(0);
      expect(Math.max(...atA), 'site-a steps come before site-b steps').to.be.lessThan(Math.max(...atB));
      expect(text).to.include(`${vm.name}: sum of squares 1..60 = 73810`);
    }
    const out = join(grid.dir, 'results');
    const o = await cli('output', before.id, '-o', out);
    expect(o.code, o.stderr).to.equal(0);
    for (const vm of before.vms) expect(readFileSync(join(out, vm.name, 'result.txt'), 'utf8')).to.equal(`${vm.name}: sum of squares 1..60 = 73810\n`);
    console.log(`      worked example: ${before.id} completed at ${siteB}; output kept until ${(await show(before.id)).outputKeptUntil}`);
  });
});

