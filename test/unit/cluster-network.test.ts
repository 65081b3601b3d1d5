// The network step of a deploy and a restore (site-agent/cluster-network.ts) on libvirt's test
// driver, with a start that finds its gateway address still held by a destroyed network's
// dnsmasq (what a freed subnet handed out again at once meets on real libvirtd).
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { clusterNetworkXml, ensureClusterNetwork, NETWORK_START_BACKOFF, NETWORK_START_RETRIES } from '../../site-agent/cluster-network.js';
import { networkName } from '../../site-agent/domain-xml.js';
import { LibvirtError, openLibvirt, type LibvirtConnection } from '../../site-agent/libvirt/index.js';
import { nothingCreated } from '../../site-agent/undo-created.js';
import { retryDelayMs } from '../../src/shared/backoff.js';
import { silentLogger } from '../../src/shared/logger.js';

/** the waits of the first `n` retries */
const steps = (n: number): number[] => Array.from({ length: n }, (_, i) => retryDelayMs(i + 1, NETWORK_START_BACKOFF));

const URI = 'test:///default';
const IN_USE = 'internal error: Child process (dnsmasq) unexpected exit status 2: dnsmasq: failed to create listening socket for 10.168.0.1: Address already in use';

describe('cluster network: define and start, retrying while the address is still held', () => {
  let conn: LibvirtConnection;
  let site: string;
  const jobId = 'j-net';
  const spec = { jobId, subnet: '10.168.0.0/29', gateway: '10.168.0.1', vms: [{ name: 'vm-0', mac: '52:54:00:00:00:02', ip: '10.168.0.2', node: 'n1' }], egress: false };

  /** `conn` whose first `failures` network starts fail as a held address does */
  function flaky(failures: number, message = IN_USE): { lv: LibvirtConnection; starts: () => number } {
    let starts = 0;
    const startNetwork = async (name: string): Promise<void> => {
      starts++;
      if (starts <= failures) throw new LibvirtError('startNetwork', name, { code: 1, domain: 19, message });
      await conn.startNetwork(name);
    };
    // every other call goes to the real connection (bound: it keeps private fields)
    const lv = new Proxy(conn, {
      get(target, prop) {
        if (prop === 'startNetwork') return startNetwork;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { lv, starts: () => starts };
  }

  beforeEach(async () => {
    conn = await openLibvirt(URI);
    site = `cn${randomBytes(3).toString('hex')}`;
  });

  afterEach(async () => {
    const name = networkName(site, jobId);
    if (await conn.lookupNetwork(name)) {
      await conn.destroyNetwork(name).catch(() => undefined);
      await conn.undefineNetwork(name);
    }
    await conn.close();
  });

  it('starts once the address is free again, after waiting the backoff steps, and records the network it defined', async () => {
    const { lv, starts } = flaky(3);
    const waits: number[] = [];
    const created = nothingCreated();
    const xml = clusterNetworkXml(site, spec);
    await ensureClusterNetwork(lv, { site, jobId, xml, uri: URI, created, log: silentLogger, what: 'deploy', sleep: async (ms) => void waits.push(ms) });
    expect(starts()).to.equal(4);
    expect(waits).to.deep.equal(steps(3));
    expect((await conn.lookupNetwork(networkName(site, jobId)))?.active).to.equal(true);
    expect(created.networks).to.have.length(1);
  });

  it('gives up after the last step with libvirt\'s error, the defined network left for the caller to undo', async () => {
    const { lv, starts } = flaky(Infinity);
    const waits: number[] = [];
    const created = nothingCreated();
    const xml = clusterNetworkXml(site, spec);
    const err = await ensureClusterNetwork(lv, { site, jobId, xml, uri: URI, created, log: silentLogger, what: 'deploy', sleep: async (ms) => void waits.push(ms) })
      .then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(LibvirtError);
    expect((err as Error).message).to.contain('Address already in use');
    expect(waits).to.deep.equal(steps(NETWORK_START_RETRIES));
    expect(starts()).to.equal(NETWORK_START_RETRIES + 1);
    expect(created.networks).to.have.length(1);
  });

  it('does not retry any other start failure', async () => {
    const { lv, starts } = flaky(1, 'internal error: Network is already in use by interface brn0');
    const waits: number[] = [];
    const xml = clusterNetworkXml(site, spec);
    const err = await ensureClusterNetwork(lv, { site, jobId, xml, uri: URI, created: nothingCreated(), log: silentLogger, what: 'restore', sleep: async (ms) => void waits.push(ms) })
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.contain('already in use by interface');
    expect(starts()).to.equal(1);
    expect(waits).to.deep.equal([]);
  });
});
