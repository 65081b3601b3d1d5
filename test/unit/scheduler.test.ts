import { expect } from 'chai';
import { consume, fitOnSite, pendingReason, rankSites, runsGuests, type SiteCapacity } from '../../src/coordinator/scheduler.js';

function site(name: string, nodes: Array<[string, number, number]>, opts: Partial<SiteCapacity> = {}): SiteCapacity {
  return {
    name,
    up: true,
    images: ['tiny'],
    nodes: nodes.map(([n, cpus, mem]) => ({ name: n, cpus, memoryMiB: mem, usedCpus: 0, usedMemoryMiB: 0, schedulable: true })),
    ...opts,
  };
}

describe('scheduler', () => {
  const req = { vms: 3, cpus: 2, memoryMiB: 1024, image: 'tiny' };

  it('spreads a cluster over the nodes of one site', () => {
    const fit = fitOnSite(site('a', [['a1', 8, 8192], ['a2', 8, 8192]]), req);
    expect(fit.ok).to.equal(true);
    if (!fit.ok) return;
    expect(fit.nodes).to.have.length(3);
    expect(new Set(fit.nodes)).to.deep.equal(new Set(['a1', 'a2']));
  });

  it('never splits a cluster over sites: two half-sites do not fit it', () => {
    const { fits, misses } = rankSites([site('a', [['a1', 4, 8192]]), site('b', [['b1', 4, 8192]])], req);
    expect(fits).to.deep.equal([]);
    expect(misses.map((m) => m.site)).to.deep.equal(['a', 'b']);
    expect(pendingReason(req, misses)).to.match(/^no site has room: a has room for 2 of 3 VMs/);
  });

  it('prefers the site left with the most free cpus, and honours a pinned site', () => {
    const sites = [site('a', [['a1', 8, 8192]]), site('b', [['b1', 16, 8192]])];
    expect(rankSites(sites, req).fits.map((f) => f.site)).to.deep.equal(['b', 'a']);
    expect(rankSites(sites, { ...req, site: 'a' }).fits.map((f) => f.site)).to.deep.equal(['a']);
  });

  it('skips DOWN sites, sites without the image and reclaimed nodes', () => {
    const down = site('a', [['a1', 8, 8192]], { up: false });
    const noImage = site('b', [['b1', 8, 8192]], { images: ['other'] });
    const reclaimed = site('c', [['c1', 8, 8192]]);
    (reclaimed.nodes[0] as { schedulable: boolean }).schedulable = false;
    const { fits, misses } = rankSites([down, noImage, reclaimed], req);
    expect(fits).to.deep.equal([]);
    expect(misses.map((m) => m.reason)).to.deep.equal(['a is DOWN', 'b has no image tiny', 'c has room for 0 of 3 VMs of 2 cpus/1024 MiB (free: 0 cpus, 0 MiB)']);
  });

  it('places a job asking for egress only on sites that allow it, and says why not', () => {
    const open = site('a', [['a1', 8, 8192]], { egress: true });
    const closed = site('b', [['b1', 16, 8192]]);
    expect(rankSites([open, closed], req).fits.map((f) => f.site)).to.deep.equal(['b', 'a']);
    const { fits, misses } = rankSites([open, closed], { ...req, egress: true });
    expect(fits.map((f) => f.site)).to.deep.equal(['a']);
    expect(misses).to.deep.equal([{ ok: false, site: 'b', reason: 'b does not allow egress (network.egress is none)' }]);
  });

  it('places a job with an output disk only on sites whose outputDisk.max allows its size', () => {
    const big = site('a', [['a1', 8, 8192]], { maxOutputDiskMiB: 1024 });
    const small = site('b', [['b1', 16, 8192]], { maxOutputDiskMiB: 64 });
    const none = site('c', [['c1', 16, 8192]]);
    expect(rankSites([big, small, none], { ...req, outputDiskMiB: 64 }).fits.map((f) => f.site)).to.deep.equal(['b', 'a']);
    const { fits, misses } = rankSites([big, small, none], { ...req, outputDiskMiB: 512 });
    expect(fits.map((f) => f.site)).to.deep.equal(['a']);
    expect(misses.map((m) => m.reason)).to.deep.equal(['b allows output disks up to 64 MiB (outputDisk.max)', 'c allows output disks up to 0 MiB (outputDisk.max)']);
  });

  it('accounts for memory as well as cpus, and for what is already used', () => {
    const s = site('a', [['a1', 64, 2048]]);
    expect(fitOnSite(s, req).ok).to.equal(false);
    const s2 = site('a', [['a1', 8, 8192]]);
    consume(s2, ['a1', 'a1'], { cpus: 3, memoryMiB: 100 });
    const fit = fitOnSite(s2, { ...req, vms: 1 });
    expect(fit.ok).to.equal(true);
    expect(fitOnSite(s2, { ...req, vms: 2 }).ok).to.equal(false);
  });

  it('says why when no site is registered', () => {
    expect(pendingReason(req, [])).to.equal('no site is registered');
  });
  it('restores saved VMs only on nodes that run their domain type and architecture', () => {
    const kvm = { arch: 'x86_64', domainTypes: ['kvm', 'qemu'] };
    const tcg = { arch: 'x86_64', domainTypes: ['qemu'] };
    expect(runsGuests(kvm, [{ arch: 'x86_64', domainType: 'qemu' }])).to.equal(true);
    expect(runsGuests(tcg, [{ arch: 'x86_64', domainType: 'kvm' }])).to.equal(false);
    expect(runsGuests({ arch: 'aarch64', domainTypes: ['kvm'] }, [{ arch: 'x86_64', domainType: 'kvm' }])).to.equal(false);
    expect(runsGuests({}, [{ arch: 'x86_64', domainType: 'kvm' }]), 'a node that says nothing is not checked').to.equal(true);

    const mixed = site('m', [['m1', 8, 8192], ['m2', 8, 8192]]);
    Object.assign(mixed.nodes[0] as object, tcg);
    Object.assign(mixed.nodes[1] as object, kvm);
    const needs = [{ arch: 'x86_64', domainType: 'kvm' }];
    const fit = fitOnSite(mixed, { ...req, vms: 2, needs });
    expect(fit.ok && fit.nodes).to.deep.equal(['m2', 'm2']); // only the KVM node takes them
    const onlyTcg = site('t', [['t1', 8, 8192]]);
    Object.assign(onlyTcg.nodes[0] as object, tcg);
    const miss = fitOnSite(onlyTcg, { ...req, needs });
    expect(miss.ok).to.equal(false);
    expect(!miss.ok && miss.reason).to.equal('t cannot restore these VMs: they were saved as kvm/x86_64 (a saved VM resumes only under its own accelerator and architecture), its nodes run qemu/x86_64');
    expect(fitOnSite(onlyTcg, req).ok, 'a first deploy needs nothing').to.equal(true);
  });
});
