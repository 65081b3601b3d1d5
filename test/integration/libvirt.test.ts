// The libvirt binding against libvirt's in-process test driver (test:///default): real libvirt.so.0,
// no daemon. Connections to test:///default in one process share its state, so every object made
// here has a fresh name and is removed in afterEach, even when the test fails.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BrineError } from '../../src/shared/errors.js';
import {
  isNoDomain,
  isNoNetwork,
  LibvirtError,
  openLibvirt,
  restoreWithNewNics,
  type LibvirtConnection,
} from '../../site-agent/libvirt/index.js';
import { domainNameOf, findInterfaces, macOf, rewriteInterfaces } from '../../site-agent/libvirt/nic-swap.js';

const URI = 'test:///default';
const OLD_MAC = '02:00:00:00:00:01';
const NEW_MAC = '02:00:00:00:10:01';

function fresh(kind: string): string {
  return `brine-test-${kind}-${randomBytes(4).toString('hex')}`;
}

function domainDef(name: string, nic?: { mac: string; network: string }): string {
  const iface = nic
    ? `<interface type='network'><mac address='${nic.mac}'/><source network='${nic.network}'/></interface>`
    : '';
  return (
    `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
    `<os><type arch='x86_64'>hvm</type></os><devices>${iface}</devices></domain>`
  );
}

function networkDef(name: string, bridge: string, third = 99): string {
  return (
    `<network><name>${name}</name><bridge name='${bridge}'/>` +
    `<ip address='10.${third}.0.1' prefix='24'><dhcp><host mac='${OLD_MAC}' ip='10.${third}.0.2'/></dhcp></ip></network>`
  );
}

/** Runs an ES module snippet in a fresh node process; resolves with its exit code and output. */
function runNode(code: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ code: exit, stdout, stderr, timedOut });
    });
  });
}

const indexUrl = new URL('../../site-agent/libvirt/index.js', import.meta.url).href;

describe('libvirt binding (test:///default)', function () {
  this.timeout(30_000);

  let conn: LibvirtConnection;
  let domains: string[];
  let networks: string[];
  let dirs: string[];
  let extraConns: LibvirtConnection[];

  beforeEach(async () => {
    domains = [];
    networks = [];
    dirs = [];
    extraConns = [];
    conn = await openLibvirt(URI);
  });

  afterEach(async () => {
    // Best effort, each step on its own: one failure must not leave the rest behind.
    for (const d of domains) {
      await conn.destroyDomain(d).catch(() => undefined);
      await conn.undefineDomain(d).catch(() => undefined);
    }
    for (const n of networks) {
      await conn.destroyNetwork(n).catch(() => undefined);
      await conn.undefineNetwork(n).catch(() => undefined);
    }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    for (const c of extraConns) await c.close().catch(() => undefined);
    await conn.close();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'brine-libvirt-'));
    dirs.push(dir);
    return dir;
  }

  async function runningDomain(nic?: { mac: string; network: string }): Promise<string> {
    const name = fresh('vm');
    domains.push(name);
    await conn.defineDomain(domainDef(name, nic));
    await conn.startDomain(name);
    return name;
  }

  async function activeNetwork(third = 99): Promise<string> {
    const name = fresh('net');
    networks.push(name);
    await conn.defineNetwork(networkDef(name, `virbr-${randomBytes(3).toString('hex')}`, third));
    await conn.startNetwork(name);
    return name;
  }

  it('opens the connection and lists the driver’s built-in test domain', async () => {
    expect(conn.uri).to.equal(URI);
    const all = await conn.listDomains();
    const test = all.find((d) => d.name === 'test');
    expect(test).to.deep.include({ name: 'test', persistent: true });
    expect(test?.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await conn.capabilities()).to.contain('<capabilities>');
  });

  it('defines, starts, suspends, resumes, destroys and undefines a domain', async () => {
    const name = fresh('vm');
    domains.push(name);

    await conn.defineDomain(domainDef(name));
    let info = await conn.lookupDomain(name);
    expect(info).to.deep.include({ name, state: 'shutoff', persistent: true });
    expect((await conn.listDomains()).map((d) => d.name)).to.include(name);

    await conn.startDomain(name);
    expect((await conn.lookupDomain(name))?.state).to.equal('running');
    expect(await conn.domainXml(name)).to.contain(`<name>${name}</name>`);

    await conn.suspendDomain(name);
    expect((await conn.lookupDomain(name))?.state).to.equal('paused');
    await conn.resumeDomain(name);
    expect((await conn.lookupDomain(name))?.state).to.equal('running');

    await conn.destroyDomain(name);
    info = await conn.lookupDomain(name);
    expect(info?.state).to.equal('shutoff');
    await conn.destroyDomain(name); // already off: still fine

    await conn.undefineDomain(name);
    expect(await conn.lookupDomain(name)).to.equal(null);
    expect((await conn.listDomains()).map((d) => d.name)).not.to.include(name);
    await conn.undefineDomain(name); // already gone: still fine
    await conn.destroyDomain(name);
  });

  it('answers null for an unknown domain, and a LibvirtError 42 naming it when asked to start it', async () => {
    const name = fresh('missing');
    expect(await conn.lookupDomain(name)).to.equal(null);
    const err = await conn.startDomain(name).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(LibvirtError);
    expect(err).to.be.instanceOf(BrineError);
    const lv = err as LibvirtError;
    expect(lv.libvirtCode).to.equal(42);
    expect(lv.libvirtDomain).to.be.a('number');
    expect(lv.code).to.equal('NOT_FOUND');
    expect(lv.message).to.contain(name).and.to.match(/^libvirt: startDomain /);
    expect(isNoDomain(lv)).to.equal(true);
    expect(isNoNetwork(lv)).to.equal(false);
  });

  it('reports bad XML as INVALID_ARGUMENT with libvirt’s message', async () => {
    const err = (await conn.defineDomain('<domain>').then(
      () => null,
      (e: unknown) => e,
    )) as LibvirtError;
    expect(err).to.be.instanceOf(LibvirtError);
    expect(err.code).to.equal('INVALID_ARGUMENT');
    expect(err.libvirtMessage).to.be.a('string').and.not.be.empty;
  });

  it('defines, starts, inspects, destroys and undefines a network with a static DHCP host', async () => {
    const name = fresh('net');
    networks.push(name);
    const bridge = `virbr-${randomBytes(3).toString('hex')}`;
    await conn.defineNetwork(networkDef(name, bridge));
    expect(await conn.lookupNetwork(name)).to.deep.equal({ name, active: false, persistent: true, bridge });

    await conn.startNetwork(name);
    expect((await conn.lookupNetwork(name))?.active).to.equal(true);
    const xml = await conn.networkXml(name);
    expect(xml).to.match(/<host mac='02:00:00:00:00:01' ip='10\.99\.0\.2'\/>/);
    expect(xml).to.contain(`<bridge name='${bridge}'`);
    expect((await conn.listNetworks()).find((n) => n.name === name)).to.deep.include({ active: true, bridge });

    await conn.destroyNetwork(name);
    expect((await conn.lookupNetwork(name))?.active).to.equal(false);
    await conn.destroyNetwork(name); // already inactive: fine
    await conn.undefineNetwork(name);
    expect((await conn.listNetworks()).map((n) => n.name)).not.to.include(name);
    expect(await conn.lookupNetwork(name)).to.equal(null);
    await conn.destroyNetwork(name); // gone: fine
    await conn.undefineNetwork(name);

    const err = await conn.startNetwork(name).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isNoNetwork(err)).to.equal(true);
    expect((err as LibvirtError).message).to.contain(name);
  });

  it('saves a running domain to a file and restores it', async () => {
    const name = await runningDomain();
    const path = join(await tempDir(), 'vm.save');

    await conn.saveDomain(name, path);
    expect((await conn.lookupDomain(name))?.state).to.equal('shutoff');
    expect(await conn.saveImageXml(path)).to.contain(`<name>${name}</name>`);

    await conn.restoreDomain(path);
    expect((await conn.lookupDomain(name))?.state).to.equal('running');
  });

  it('restoreWithNewNics gives the restored domain its new MAC and network (test driver: image XML rewritten)', async () => {
    const oldNet = await activeNetwork(98);
    const newNet = await activeNetwork(97);
    const name = await runningDomain({ mac: OLD_MAC, network: oldNet });
    const path = join(await tempDir(), 'vm.save');
    await conn.saveDomain(name, path);

    await restoreWithNewNics(conn, path, [{ oldMac: OLD_MAC, newMac: NEW_MAC.toUpperCase(), network: newNet }]);

    expect((await conn.lookupDomain(name))?.state).to.equal('running');
    const live = await conn.domainXml(name);
    const ifaces = findInterfaces(live);
    expect(ifaces).to.have.length(1);
    expect(macOf(ifaces[0]?.text ?? '')).to.equal(NEW_MAC);
    expect(ifaces[0]?.text).to.contain(`<source network='${newNet}'/>`);
    expect(live).not.to.contain(OLD_MAC);
    // The persistent definition follows, so a cold boot uses the new lease too.
    const config = await conn.domainXml(name, { inactive: true });
    expect(config).to.contain(NEW_MAC).and.to.contain(`network='${newNet}'`).and.not.to.contain(OLD_MAC);

    // A retry (the agent's calls are idempotent) finds it done and changes nothing.
    await restoreWithNewNics(conn, path, [{ oldMac: OLD_MAC, newMac: NEW_MAC, network: newNet }]);
    expect(await conn.domainXml(name)).to.equal(live);
  });

  it('restoreWithNewNics refuses bad MACs and NICs the image does not have', async () => {
    const name = await runningDomain({ mac: OLD_MAC, network: 'default' });
    const path = join(await tempDir(), 'vm.save');
    await conn.saveDomain(name, path);

    const bad = await restoreWithNewNics(conn, path, [{ oldMac: 'nope', newMac: NEW_MAC, network: 'default' }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(bad).to.be.instanceOf(BrineError).with.property('code', 'INVALID_ARGUMENT');
    const missing = await restoreWithNewNics(conn, path, [
      { oldMac: '02:00:00:00:00:99', newMac: NEW_MAC, network: 'default' },
    ]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(missing).to.be.instanceOf(BrineError).with.property('message').that.contains('02:00:00:00:00:99');
    expect((await conn.lookupDomain(name))?.state).to.equal('shutoff'); // nothing restored
  });

  it('keeps the event loop free while calls run (1000 calls, a 1 ms interval keeps ticking)', async () => {
    const name = await runningDomain();
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 1);
    try {
      const start = performance.now();
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 1000; i++) {
        calls.push(i % 2 === 0 ? conn.domainXml(name) : conn.listDomains());
        // Let timers run between submissions, as an agent serving requests would.
        if (i % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(calls);
      const end = performance.now();
      const during = ticks.filter((t) => t >= start && t <= end);
      // The loop must keep ticking while the worker runs the calls: no long gap, ticks all along.
      // (How many ticks fit depends on how fast the machine is; at least one every 20 ms.)
      expect(during.length, `${during.length} ticks in ${(end - start).toFixed(1)} ms`).to.be.at.least(Math.floor((end - start) / 20));
      const gaps = during.slice(1).map((t, i) => t - (during[i] ?? t));
      expect(Math.max(0, ...gaps)).to.be.lessThan(200);
    } finally {
      clearInterval(timer);
    }
  });

  it('runs calls of several connections side by side, and one closing leaves the others working', async () => {
    const others = await Promise.all([openLibvirt(URI), openLibvirt(URI)]);
    extraConns.push(...others);
    const [a, b] = others as [LibvirtConnection, LibvirtConnection];
    const name = await runningDomain();
    expect((await a.lookupDomain(name))?.state).to.equal('running'); // same driver state
    await b.close();
    // Errors after another worker went away must still be handled quietly (libvirt's handler is process-wide).
    expect(await a.lookupDomain(fresh('missing'))).to.equal(null);
    const err = await a.startDomain(fresh('missing')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isNoDomain(err)).to.equal(true);
    const closed = await b.listDomains().then(
      () => null,
      (e: unknown) => e,
    );
    expect(closed).to.be.instanceOf(BrineError).with.property('code', 'UNAVAILABLE');
  });

  it('rejects every pending call with a clear error when the worker dies', async () => {
    // Catch the connection's worker as it posts its first request.
    let worker: Worker | undefined;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      worker ??= this;
      return post.apply(this, args);
    };
    let doomed: LibvirtConnection;
    try {
      doomed = await openLibvirt(URI);
      extraConns.push(doomed);
      await doomed.listDomains();
    } finally {
      Worker.prototype.postMessage = post;
    }
    expect(worker).to.not.equal(undefined);
    const pending = Array.from({ length: 50 }, () => doomed.listDomains());
    await worker?.terminate();
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).to.be.instanceOf(BrineError).with.property('code', 'UNAVAILABLE');
        expect((r.reason as Error).message).to.match(/libvirt worker for test:\/\/\/default exited/);
      }
    }
    const after = await doomed.listDomains().then(
      () => null,
      (e: unknown) => e,
    );
    expect(after).to.be.instanceOf(BrineError).with.property('code', 'UNAVAILABLE');
    await doomed.close(); // still settles
  });

  it('fails to open an unknown URI with an UNAVAILABLE LibvirtError', async () => {
    const err = await openLibvirt('nosuchdriver:///x').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(LibvirtError);
    expect((err as LibvirtError).code).to.equal('UNAVAILABLE');
    expect((err as LibvirtError).message).to.match(/^libvirt: open nosuchdriver:\/\/\/x: /);
  });

  it('prints nothing to stderr on libvirt errors, and close() lets the process exit', async () => {
    const script = `
      const { openLibvirt } = await import(${JSON.stringify(indexUrl)});
      const conn = await openLibvirt('test:///default');
      const tries = [
        conn.startDomain('brine-test-no-such-domain'),
        conn.startNetwork('brine-test-no-such-network'),
        conn.defineDomain('<domain>'),
        conn.saveImageXml('/nonexistent/brine.save'),
        openLibvirt('nosuchdriver:///x'),
      ];
      const settled = await Promise.allSettled(tries);
      console.log(settled.filter((s) => s.status === 'rejected').length);
      await conn.close();
    `;
    const run = await runNode(script, 15_000);
    expect(run.timedOut, 'the process did not exit after close()').to.equal(false);
    expect(run.stderr).to.equal('');
    expect(run.stdout.trim()).to.equal('5');
    expect(run.code).to.equal(0);
  });
});

describe('libvirt NIC rewriting (XML string edits)', () => {
  const nic = { oldMac: OLD_MAC, newMac: NEW_MAC, network: 'brine-b-net' };

  it('changes only the matching interface, and keeps every other byte', () => {
    const xml =
      `<domain type='kvm'>\n  <name>vm-1</name>\n  <metadata>\n    <b:x xmlns:b='urn:b'><interface><mac address='${OLD_MAC}'/></interface></b:x>\n  </metadata>\n` +
      `  <devices>\n    <!-- <interface type='network'><mac address='${OLD_MAC}'/></interface> -->\n` +
      `    <interface type='network'>\n      <mac address='${OLD_MAC}'/>\n      <source network='brine-a-net' portid='1234' bridge='virbr3'/>\n` +
      `      <target dev='vnet0'/>\n      <model type='virtio'/>\n    </interface>\n` +
      `    <interface type="bridge"><mac address="02:00:00:00:00:02"/><source bridge="br0"/></interface>\n  </devices>\n</domain>\n`;
    const out = rewriteInterfaces(xml, [nic], { macs: true, requireAll: true });
    const expected = xml.replace(
      `<mac address='${OLD_MAC}'/>\n      <source network='brine-a-net' portid='1234' bridge='virbr3'/>`,
      `<mac address='${NEW_MAC}'/>\n      <source network='brine-b-net'/>`,
    );
    expect(out).to.equal(expected);
    expect(domainNameOf(out)).to.equal('vm-1');
  });

  it('keeps the MAC when asked for sources only, turns other interface types into network ones', () => {
    const xml = `<domain><name>v</name><devices><interface type="bridge"><mac address="${OLD_MAC.toUpperCase()}"/><source bridge="br0"/></interface></devices></domain>`;
    const out = rewriteInterfaces(xml, [nic], { macs: false, requireAll: true });
    expect(out).to.equal(
      `<domain><name>v</name><devices><interface type='network'><mac address="${OLD_MAC.toUpperCase()}"/><source network='brine-b-net'/></interface></devices></domain>`,
    );
  });

  it('escapes network names and finds an already rewritten NIC by its new MAC', () => {
    const xml = `<domain><name>a&amp;b</name><devices><interface type='network'><mac address='${NEW_MAC}'/><source network='x'/></interface></devices></domain>`;
    const out = rewriteInterfaces(xml, [{ ...nic, network: `n'<&` }], { macs: true, requireAll: true });
    expect(out).to.contain(`<source network='n&#39;&#60;&#38;'/>`);
    expect(domainNameOf(xml)).to.equal('a&b');
  });
});
