import { expect } from 'chai';
import { AddressAllocator, type ClusterLease, type ReserveResult, type VmLease } from '../../src/coordinator/address-allocator.js';
import { InvalidArgumentError, NotAllowedError, NotFoundError } from '../../src/shared/errors.js';

const vms = (k: number, prefix = 'vm'): string[] => Array.from({ length: k }, (_, i) => `${prefix}${i}`);

function leased(r: ReserveResult): ClusterLease {
  if (!r.ok) throw new Error(`expected a lease, got: ${r.reason}`);
  return r.lease;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

function twoSites(): AddressAllocator {
  const a = new AddressAllocator();
  a.addSite('site-a', '10.144.0.0/22', '02:b1:00:00:00:00/32');
  a.addSite('site-b', '10.145.0.0/22', '02:b2:00:00:00:00/32');
  return a;
}

describe('AddressAllocator: sites', () => {
  it('refuses an overlapping pool, naming both sites', () => {
    const a = twoSites();
    const err = thrown(() => a.addSite('site-c', '10.144.2.0/23', '02:b3:00:00:00:00/32'));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).to.equal('network.subnetPool');
    expect(err.message).to.match(/site-c/).and.to.match(/site-a/).and.to.match(/10\.144\.0\.0\/22/);
  });

  it('refuses an overlapping MAC range, naming both sites', () => {
    const a = twoSites();
    const err = thrown(() => a.addSite('site-c', '10.146.0.0/22', '02:b2:00:00:80:00-02:b2:00:01:00:00'));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).to.equal('network.macRange');
    expect(err.message).to.match(/site-c/).and.to.match(/site-b/);
  });

  it('refuses bad settings with the config field', () => {
    const a = new AddressAllocator();
    expect((thrown(() => a.addSite('s', '10.0.0.0/31', '02:00:00:00:00:00/40')) as InvalidArgumentError).field).to.equal(
      'network.subnetPool',
    );
    expect(thrown(() => a.addSite('s', '10.0.0.0/31', '02:00:00:00:00:00/40')).message).to.match(/too small/);
    expect((thrown(() => a.addSite('s', '10.0.0.0/24', '01:00:00:00:00:00/40')) as InvalidArgumentError).field).to.equal(
      'network.macRange',
    );
    expect(thrown(() => a.addSite('Bad Name', '10.0.0.0/24', '02:00:00:00:00:00/40'))).to.be.instanceOf(InvalidArgumentError);
    expect(a.sites()).to.deep.equal([]);
  });

  it('re-adding identical settings is a no-op; changing them needs the site to be empty', () => {
    const a = twoSites();
    const lease = leased(a.reserve('site-a', 'j1', vms(2)));
    a.addSite('site-a', '10.144.0.0/22', '02:b1:00:00:00:00-02:b1:00:00:ff:ff'); // same range, other spelling
    expect(a.lease('site-a', 'j1')).to.deep.equal(lease);
    const err = thrown(() => a.addSite('site-a', '10.144.0.0/23', '02:b1:00:00:00:00/32'));
    expect(err).to.be.instanceOf(NotAllowedError);
    expect(err.message).to.match(/site-a holds 1 live/);
    a.release('site-a', 'j1');
    a.addSite('site-a', '10.144.0.0/23', '02:b1:00:00:00:00/32');
    expect(a.sites()[0]).to.deep.equal({ site: 'site-a', pool: '10.144.0.0/23', macRange: '02:b1:00:00:00:00-02:b1:00:00:ff:ff' });
    // A site may move onto space it alone used to hold.
    a.addSite('site-b', '10.145.0.0/23', '02:b2:00:00:00:00/33');
  });

  it('reserve at an unknown site is NotFound', () => {
    expect(thrown(() => twoSites().reserve('site-z', 'j', vms(1)))).to.be.instanceOf(NotFoundError);
  });
});

describe('AddressAllocator: leases', () => {
  it('leases the smallest subnet: 1 VM → /30, 2 → /29, 5 → /29, 6 → /28', () => {
    const a = twoSites();
    const sizes: Array<[number, string]> = [
      [1, '/30'],
      [2, '/29'],
      [5, '/29'],
      [6, '/28'],
    ];
    for (const [k, suffix] of sizes) expect(leased(a.reserve('site-a', `j${k}`, vms(k))).subnet.endsWith(suffix), `${k} VMs`).to.equal(true);
  });

  it('gateway is the first host; VMs follow in order; MACs are distinct and from the range', () => {
    const a = twoSites();
    leased(a.reserve('site-a', 'small', vms(1)));
    const l = leased(a.reserve('site-a', 'j', ['a', 'b', 'c', 'd', 'e']));
    expect(l).to.deep.equal({
      site: 'site-a',
      job: 'j',
      subnet: '10.144.0.8/29',
      gateway: '10.144.0.9',
      vms: [
        { vm: 'a', mac: '02:b1:00:00:00:01', ip: '10.144.0.10' },
        { vm: 'b', mac: '02:b1:00:00:00:02', ip: '10.144.0.11' },
        { vm: 'c', mac: '02:b1:00:00:00:03', ip: '10.144.0.12' },
        { vm: 'd', mac: '02:b1:00:00:00:04', ip: '10.144.0.13' },
        { vm: 'e', mac: '02:b1:00:00:00:05', ip: '10.144.0.14' },
      ],
      state: 'reserved',
    });
  });

  it('a retried reserve returns the same lease; a different one for the same (site, job) is refused', () => {
    const a = twoSites();
    const l = leased(a.reserve('site-a', 'j', vms(3)));
    expect(leased(a.reserve('site-a', 'j', vms(3)))).to.deep.equal(l);
    expect(thrown(() => a.reserve('site-a', 'j', vms(4)))).to.be.instanceOf(NotAllowedError);
    expect(a.leases()).to.have.length(1);
  });

  it('a job whose lease at a site is still releasing gets {ok: false} there, not an error, and takes nothing', () => {
    // A failed deploy whose destroy failed too: the placement pass must try other sites, not abort.
    const a = twoSites();
    leased(a.reserve('site-a', 'j', vms(3)));
    a.markReleasing('site-a', 'j');
    const before = a.usage('site-a');
    for (const again of [vms(3), vms(5)]) {
      const r = a.reserve('site-a', 'j', again);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.reason).to.match(/site site-a is still releasing job j's previous addresses there \(10\.144\.0\.0\/29\)/);
    }
    expect(a.usage('site-a')).to.deep.equal(before);
    expect(a.lease('site-a', 'j')?.state).to.equal('releasing');
    // Elsewhere the job places normally; once the site confirms, it may come back.
    expect(leased(a.reserve('site-b', 'j', vms(3))).site).to.equal('site-b');
    a.release('site-a', 'j');
    expect(leased(a.reserve('site-a', 'j', vms(3))).state).to.equal('reserved');
  });

  it('refuses bad VM lists', () => {
    const a = twoSites();
    expect(thrown(() => a.reserve('site-a', 'j', []))).to.be.instanceOf(InvalidArgumentError);
    expect(thrown(() => a.reserve('site-a', 'j', ['x', 'x']))).to.be.instanceOf(InvalidArgumentError);
  });

  it('states: reserved → active → releasing → free; release is idempotent', () => {
    const a = twoSites();
    leased(a.reserve('site-a', 'j', vms(2)));
    expect(a.activate('site-a', 'j').state).to.equal('active');
    expect(a.activate('site-a', 'j').state).to.equal('active');
    expect(a.markReleasing('site-a', 'j').state).to.equal('releasing');
    expect(thrown(() => a.activate('site-a', 'j'))).to.be.instanceOf(NotAllowedError);
    expect(a.leases('site-a').map((l) => l.state)).to.deep.equal(['releasing']);
    expect(a.release('site-a', 'j')?.state).to.equal('free');
    expect(a.release('site-a', 'j')).to.equal(undefined);
    expect(a.release('site-a', 'never')).to.equal(undefined);
    expect(a.release('site-z', 'never')).to.equal(undefined);
    expect(a.leases()).to.deep.equal([]);
    expect(thrown(() => a.activate('site-a', 'j'))).to.be.instanceOf(NotFoundError);
    expect(a.usage('site-a').freeAddresses).to.equal(1024n);
  });

  it('a moving job holds leases at both sites; releasing one keeps the other', () => {
    const a = twoSites();
    const origin = leased(a.reserve('site-a', 'j', vms(4)));
    a.activate('site-a', 'j');
    const dest = leased(a.reserve('site-b', 'j', vms(4)));
    expect(a.leases().map((l) => `${l.site}/${l.job}/${l.state}`)).to.deep.equal(['site-a/j/active', 'site-b/j/reserved']);
    expect(dest.subnet.startsWith('10.145.')).to.equal(true);
    // The move succeeds: the destination becomes active, the origin is released.
    a.activate('site-b', 'j');
    a.markReleasing('site-a', 'j');
    a.release('site-a', 'j');
    expect(a.leases()).to.have.length(1);
    expect(a.lease('site-b', 'j')?.state).to.equal('active');
    // A failed move back: the origin (now site-b) keeps its addresses intact.
    leased(a.reserve('site-a', 'j', vms(4)));
    a.release('site-a', 'j');
    expect(a.lease('site-b', 'j')).to.deep.equal({ ...dest, state: 'active' });
    expect(origin.site).to.equal('site-a');
  });

  it('flatLeases gives one DESIGN.md lease per VM', () => {
    const a = twoSites();
    leased(a.reserve('site-b', 'j2', vms(1)));
    leased(a.reserve('site-a', 'j1', vms(2)));
    expect(a.flatLeases()).to.deep.equal([
      { site: 'site-a', job: 'j1', vm: 'vm0', mac: '02:b1:00:00:00:00', ip: '10.144.0.2', subnet: '10.144.0.0/29', state: 'reserved' },
      { site: 'site-a', job: 'j1', vm: 'vm1', mac: '02:b1:00:00:00:01', ip: '10.144.0.3', subnet: '10.144.0.0/29', state: 'reserved' },
      { site: 'site-b', job: 'j2', vm: 'vm0', mac: '02:b2:00:00:00:00', ip: '10.145.0.2', subnet: '10.145.0.0/30', state: 'reserved' },
    ]);
    expect(a.flatLeases('site-b')).to.have.length(1);
  });

  it('hands out immutable leases: a state change gives a new object', () => {
    const a = twoSites();
    const l = leased(a.reserve('site-a', 'j', vms(1)));
    expect(Object.isFrozen(l) && Object.isFrozen(l.vms) && Object.isFrozen(l.vms[0])).to.equal(true);
    expect(() => {
      (l as { state: string }).state = 'free';
    }).to.throw(TypeError);
    const active = a.activate('site-a', 'j');
    expect(active).to.not.equal(l);
    expect(l.state).to.equal('reserved');
    expect(active).to.deep.equal({ ...l, state: 'active' });
  });

  it('refuses an IPv6 pool too large for the allocator, saying what fits', () => {
    const err = thrown(() => new AddressAllocator().addSite('v6', 'fd00:b1::/64', '06:00:00:00:00:00/40'));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).to.equal('network.subnetPool');
    expect(err.message).to.match(/too large.*\/76 or longer/);
  });

  it('works on an IPv6 pool', () => {
    const a = new AddressAllocator();
    a.addSite('v6', 'fd00:b1::/120', '06:00:00:00:00:00/40');
    const l = leased(a.reserve('v6', 'j', vms(6)));
    expect(l.subnet).to.equal('fd00:b1::/124');
    expect(l.gateway).to.equal('fd00:b1::1');
    expect(l.vms.map((v) => v.ip)).to.deep.equal(['fd00:b1::2', 'fd00:b1::3', 'fd00:b1::4', 'fd00:b1::5', 'fd00:b1::6', 'fd00:b1::7']);
  });
});

describe('AddressAllocator: exhaustion', () => {
  it('no free subnet: says so with the pool, and takes nothing', () => {
    const a = new AddressAllocator();
    a.addSite('site-a', '10.144.0.0/28', '02:b1:00:00:00:00/32');
    leased(a.reserve('site-a', 'full', vms(13)));
    const before = a.usage('site-a');
    const r = a.reserve('site-a', 'j', vms(1));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/^no free subnet in site-a pool 10\.144\.0\.0\/28/).and.to.match(/pool is full/);
    expect(a.usage('site-a')).to.deep.equal(before);
    expect(a.lease('site-a', 'j')).to.equal(undefined);
  });

  it('no free MACs: says so with the range, and takes no subnet (never a half-allocation)', () => {
    const a = new AddressAllocator();
    a.addSite('site-a', '10.144.0.0/22', '02:b1:00:00:00:00-02:b1:00:00:00:03');
    leased(a.reserve('site-a', 'j1', vms(3)));
    const before = a.usage('site-a');
    const r = a.reserve('site-a', 'j2', vms(2));
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.reason).to.equal('no free MACs in site-a range 02:b1:00:00:00:00-02:b1:00:00:00:03 (2 needed, 1 free)');
    }
    expect(a.usage('site-a')).to.deep.equal(before);
    leased(a.reserve('site-a', 'j3', vms(1)));
  });

  it('a cluster larger than the whole pool or range is refused with its own reason', () => {
    const a = new AddressAllocator();
    a.addSite('site-a', '10.144.0.0/24', '02:b1:00:00:00:00-02:b1:00:00:00:ff');
    const big = a.reserve('site-a', 'j', vms(254));
    expect(big).to.deep.equal({ ok: false, reason: 'a cluster of 254 VMs needs a /23 subnet, larger than site site-a pool 10.144.0.0/24' });
    leased(a.reserve('site-a', 'j', vms(253)));
  });

  it('a fragmented pool says how large its largest free block is', () => {
    const a = new AddressAllocator();
    a.addSite('site-a', '10.144.0.0/26', '02:b1:00:00:00:00/32');
    for (let i = 0; i < 16; i++) leased(a.reserve('site-a', `j${i}`, vms(1)));
    for (let i = 0; i < 16; i += 2) a.release('site-a', `j${i}`); // every other /30: no two are buddies
    expect(a.usage('site-a').freeAddresses).to.equal(32n);
    const r = a.reserve('site-a', 'two', vms(2));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/no free subnet in site-a pool 10\.144\.0\.0\/26 \(2 VMs need a \/29; largest free block is a \/30\)/);
  });
});

describe('AddressAllocator: fragmentation', () => {
  function fullOfOnes(): AddressAllocator {
    const a = new AddressAllocator();
    a.addSite('site-a', '10.144.0.0/24', '02:b1:00:00:00:00/32');
    for (let i = 0; i < 64; i++) expect(leased(a.reserve('site-a', `j${i}`, vms(1))).subnet).to.equal(`10.144.0.${4 * i}/30`);
    expect(a.reserve('site-a', 'extra', vms(1)).ok).to.equal(false);
    return a;
  }

  it('a subnet freed in the middle is reused', () => {
    const a = fullOfOnes();
    const freed = a.release('site-a', 'j37');
    expect(freed?.subnet).to.equal('10.144.0.148/30');
    const l = leased(a.reserve('site-a', 'again', vms(1)));
    expect(l.subnet).to.equal('10.144.0.148/30');
    expect(l.vms[0]?.mac).to.equal(freed?.vms[0]?.mac); // the lowest free MAC is the one just returned
  });

  it('a large request after many small frees gets the merged block', () => {
    const a = fullOfOnes();
    // Free 8 adjacent /30s (10.144.0.96–127 = one aligned /27) in scrambled order, plus scattered ones.
    for (const i of [27, 24, 31, 25, 29, 26, 30, 28, 3, 50, 61]) a.release('site-a', `j${i}`);
    expect(a.usage('site-a').largestFreePrefix).to.equal(27);
    const big = leased(a.reserve('site-a', 'big', vms(29)));
    expect(big.subnet).to.equal('10.144.0.96/27');
    expect(a.usage('site-a').largestFreePrefix).to.equal(30);
    // Small requests fill the scattered holes, lowest first.
    expect(leased(a.reserve('site-a', 's1', vms(1))).subnet).to.equal('10.144.0.12/30');
  });

  it('after everything is freed the pool is whole again', () => {
    const a = fullOfOnes();
    for (let i = 0; i < 64; i++) a.release('site-a', `j${i}`);
    const u = a.usage('site-a');
    expect(u.largestFreePrefix).to.equal(24);
    expect(u.freeMacs).to.equal(u.totalMacs);
    expect(leased(a.reserve('site-a', 'all', vms(253))).subnet).to.equal('10.144.0.0/24');
  });
});

describe('AddressAllocator: restore', () => {
  function busy(): AddressAllocator {
    const a = twoSites();
    a.addSite('v6', 'fd00:b1::/116', '06:00:00:00:00:00/40');
    let n = 0;
    for (const site of ['site-a', 'site-b', 'v6']) {
      for (const k of [1, 7, 3, 30, 2, 12, 5, 1, 9]) leased(a.reserve(site, `j${n++}`, vms(k)));
    }
    for (const job of ['j1', 'j3', 'j6', 'j10', 'j14', 'j20', 'j22', 'j23']) {
      for (const site of ['site-a', 'site-b', 'v6']) a.release(site, job);
    }
    a.activate('site-a', 'j0');
    a.markReleasing('site-b', 'j11');
    return a;
  }

  it('exports the leases and rebuilds identical state', () => {
    const a = busy();
    const b = AddressAllocator.restore(a.sites(), a.exportLeases());
    expect(b.exportLeases()).to.deep.equal(a.exportLeases());
    for (const site of ['site-a', 'site-b', 'v6']) expect(b.usage(site)).to.deep.equal(a.usage(site));
    // Survives a JSON round trip (that is how the coordinator stores it).
    const c = AddressAllocator.restore(JSON.parse(JSON.stringify(a.sites())), JSON.parse(JSON.stringify(a.exportLeases())));
    expect(c.exportLeases()).to.deep.equal(a.exportLeases());
  });

  it('a restored allocator makes exactly the choices the original would have', () => {
    const a = busy();
    const b = AddressAllocator.restore(a.sites(), a.exportLeases());
    const ks = [1, 2, 4, 6, 13, 30, 1, 1, 60, 3];
    for (const site of ['site-a', 'site-b', 'v6']) {
      ks.forEach((k, i) => expect(b.reserve(site, `n${i}`, vms(k))).to.deep.equal(a.reserve(site, `n${i}`, vms(k))));
      for (const i of [2, 5, 7]) {
        a.release(site, `n${i}`);
        b.release(site, `n${i}`);
      }
      ks.forEach((k, i) => expect(b.reserve(site, `m${i}`, vms(k))).to.deep.equal(a.reserve(site, `m${i}`, vms(k))));
    }
    expect(b.exportLeases()).to.deep.equal(a.exportLeases());
  });

  it('skips free leases and refuses leases that do not fit the sites', () => {
    const a = busy();
    const sites = a.sites();
    const leases = a.exportLeases();
    const first = leases[0] as ClusterLease;
    const second = leases[1] as ClusterLease;
    expect(AddressAllocator.restore(sites, [...leases, { ...first, job: 'gone', state: 'free' }]).exportLeases()).to.deep.equal(leases);

    const refusal = (bad: ClusterLease[], pattern: RegExp): void => {
      const err = thrown(() => AddressAllocator.restore(sites, bad));
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.match(pattern);
    };
    refusal([...leases, { ...first, site: 'site-z' }], /site-z: the site is not configured/);
    refusal([...leases, { ...first, job: 'dup' }], /overlaps another lease/);
    refusal([{ ...first, subnet: '10.9.0.0/29', gateway: '10.9.0.1' }], /outside the site's pool/);
    refusal([first, { ...second, vms: second.vms.map((v, i) => (i === 0 ? { ...v, mac: first.vms[0]?.mac ?? '' } : v)) }], /leased to both job/);
    refusal([{ ...first, vms: first.vms.map((v) => ({ ...v, ip: first.gateway })) }], /has address .*, but VM 1 of/);
    // Another spelling of the right address is the same address.
    const v6 = leases.find((l) => l.site === 'v6' && l.vms.length === 1) as ClusterLease;
    const longForm = (v6.vms[0]?.ip ?? '').replace('fd00:b1::', 'fd00:00b1:0000:0000:0000:0000:0000:');
    expect(longForm).to.match(/^fd00:00b1:0000:0000:0000:0000:0000:[0-9a-f]+$/);
    const respelled = { ...v6, vms: [{ ...(v6.vms[0] as VmLease), ip: longForm }] };
    const restored = AddressAllocator.restore(sites, leases.map((l) => (l === v6 ? respelled : l)));
    expect(restored.usage('v6')).to.deep.equal(a.usage('v6'));
  });
});
