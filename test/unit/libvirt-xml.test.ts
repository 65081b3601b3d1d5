import { expect } from 'chai';
import {
  buildDomainXml,
  fileDisks,
  domainName,
  networkName,
  parseVmMetadata,
  pickGuest,
  xmlEscape,
  type DomainSpec,
} from '../../site-agent/domain-xml.js';
import {
  bridgeName,
  buildNetworkXml,
  MAX_BRIDGE_NAME,
  parseDhcpHosts,
  parseNetworkMetadata,
  type NetworkSpec,
} from '../../site-agent/network-xml.js';
import { hypervisorLogs, validateClusterSpec, vmState } from '../../site-agent/clusters.js';
import { BrineError } from '../../src/shared/errors.js';
import type { ClusterSpec } from '../../src/shared/proto.js';

const META = { site: 'site-a', job: 'j-42', vm: 'vm-1', node: 'a1', mac: '02:b1:0a:00:00:01', ip: '10.144.0.2', image: 'tiny' };

function domainSpec(over: Partial<DomainSpec> = {}): DomainSpec {
  return {
    type: 'qemu',
    arch: 'x86_64',
    name: domainName('j-42', 'vm-1'),
    memoryMiB: 256,
    vcpus: 2,
    boot: { kind: 'kernel', kernel: '/k/vmlinuz', initrd: '/k/initrd.img', cmdline: 'console=ttyS0 quiet' },
    mac: '02:b1:0a:00:00:01',
    network: networkName('site-a', 'j-42'),
    consolePath: '/data/consoles/brine-j-42-vm-1.log',
    metadata: META,
    ...over,
  };
}

const NET: NetworkSpec = {
  site: 'site-a',
  jobId: 'j-42',
  subnet: '10.144.0.0/29',
  gateway: '10.144.0.1',
  hosts: [
    { name: 'vm-0', mac: '02:B1:0A:00:00:01', ip: '10.144.0.2' },
    { name: 'vm-1', mac: '02:b1:0a:00:00:02', ip: '10.144.0.3' },
    { name: 'vm-2', mac: '02:b1:0a:00:00:03', ip: '10.144.0.4' },
  ],
};

describe('libvirt XML builders', () => {
  describe('names', () => {
    it('names domains brine-<job>-<vm> (no site: a VM keeps its name when its job moves) and networks brine-<site>-<job>', () => {
      expect(domainName('j-42', 'vm-1')).to.equal('brine-j-42-vm-1');
      expect(networkName('site-a', 'j-42')).to.equal('brine-site-a-j-42');
      expect(networkName('site-b', 'j-42')).to.not.equal(networkName('site-a', 'j-42'));
    });

    it('derives a bridge name of at most 15 characters, stable and distinct per site and job', () => {
      const long = bridgeName('a-very-long-site-name-of-32-char', 'a-job-id-that-is-long-as-well-0123456789');
      expect(long.length).to.be.at.most(MAX_BRIDGE_NAME);
      expect(long).to.match(/^brn[0-9a-f]{12}$/);
      expect(bridgeName('site-a', 'j1')).to.equal(bridgeName('site-a', 'j1'));
      expect(bridgeName('site-a', 'j1')).to.not.equal(bridgeName('site-b', 'j1'));
      expect(bridgeName('site-a', 'j1')).to.not.equal(bridgeName('site-a', 'j2'));
      // the same concatenation from different parts must still differ
      expect(bridgeName('a', 'b-c')).to.not.equal(bridgeName('a-b', 'c'));
      const many = new Set<string>();
      for (let i = 0; i < 10_000; i++) many.add(bridgeName('site-a', `j${i}`));
      expect(many.size).to.equal(10_000);
    });
  });

  describe('domain XML', () => {
    it('describes one VM: type, memory, vcpus, ACPI, direct kernel boot, NIC, console, metadata', () => {
      const xml = buildDomainXml(domainSpec());
      expect(xml).to.match(/^<domain type='qemu'>/);
      expect(xml).to.include('<name>brine-j-42-vm-1</name>');
      expect(xml).to.include(`<memory unit='MiB'>256</memory>`);
      expect(xml).to.include('<vcpu>2</vcpu>');
      expect(xml).to.include(`<type arch='x86_64' machine='pc'>hvm</type>`);
      expect(xml).to.include('<features><acpi/></features>');
      expect(xml).to.include('<kernel>/k/vmlinuz</kernel>');
      expect(xml).to.include('<initrd>/k/initrd.img</initrd>');
      expect(xml).to.include('<cmdline>console=ttyS0 quiet</cmdline>');
      expect(xml).to.match(
        /<interface type='network'>\s*<mac address='02:b1:0a:00:00:01'\/>\s*<source network='brine-site-a-j-42'\/>\s*<model type='virtio'\/>\s*<\/interface>/,
      );
      // append='on': QEMU would truncate the console when it reopens it (restore)
      expect(xml).to.match(/<serial type='file'>\s*<source path='\/data\/consoles\/brine-j-42-vm-1.log' append='on'\/>/);
      expect(xml).to.match(/<console type='file'>\s*<source path='\/data\/consoles\/brine-j-42-vm-1.log' append='on'\/>/);
      expect(xml).to.not.include('<disk');
    });

    it('runs QEMU guests on the pc machine, without the default USB controller', () => {
      const xml = buildDomainXml(domainSpec());
      expect(xml).to.include(`<type arch='x86_64' machine='pc'>hvm</type>`);
      expect(xml).to.include(`<controller type='usb' model='none'/>`);
      expect(buildDomainXml(domainSpec({ type: 'kvm' }))).to.include(`machine='pc'`);
      // other architectures keep QEMU's default machine; the test driver has no machine types
      expect(buildDomainXml(domainSpec({ arch: 'aarch64' }))).to.include(`<type arch='aarch64'>hvm</type>`);
      expect(buildDomainXml(domainSpec({ type: 'test', arch: 'i686' }))).to.include(`<type arch='i686'>hvm</type>`);
    });

    it('attaches an output disk as a writable qcow2 virtio disk, which snapshots capture', () => {
      const xml = buildDomainXml(domainSpec({ output: { path: '/data/disks/d.output.qcow2', target: 'vdb' } }));
      expect(xml).to.match(/<disk type='file' device='disk'>\s*<driver name='qemu' type='qcow2'\/>\s*<source file='\/data\/disks\/d.output.qcow2'\/>\s*<target dev='vdb' bus='virtio'\/>\s*<\/disk>/);
      // what the capture takes: the writable qcow2 file disks
      expect(fileDisks(xml).filter((d) => !d.readonly && d.format === 'qcow2').map((d) => [d.target, d.source])).to.deep.equal([['vdb', '/data/disks/d.output.qcow2']]);
    });

    it('boots a disk image from the VM’s own overlay', () => {
      const xml = buildDomainXml(domainSpec({ type: 'test', arch: 'i686', boot: { kind: 'disk', overlay: '/data/disks/d.qcow2' } }));
      expect(xml).to.match(/^<domain type='test'>/);
      expect(xml).to.include(`<boot dev='hd'/>`);
      expect(xml).to.match(/<disk type='file' device='disk'>\s*<driver name='qemu' type='qcow2'\/>\s*<source file='\/data\/disks\/d.qcow2'\/>/);
      expect(xml).to.not.include('<kernel>');
    });

    it('finds libvirt’s own QEMU log of a domain only for local QEMU URIs', () => {
      const sys = hypervisorLogs('qemu:///system', 'brine-j1-vm-0');
      expect(sys[0]).to.equal('/var/log/libvirt/qemu/brine-j1-vm-0.log');
      expect(sys).to.include('/var/log/libvirt/qemu/brine-j1-vm-0.log.0');
      expect(hypervisorLogs('qemu+unix:///system?socket=/run/x', 'd')[0]).to.equal('/var/log/libvirt/qemu/d.log');
      expect(hypervisorLogs('qemu:///session', 'd', { XDG_CACHE_HOME: '/c' })[0]).to.equal('/c/libvirt/qemu/log/d.log');
      expect(hypervisorLogs('qemu+ssh://root@node7/system', 'd')).to.deep.equal([]);
      expect(hypervisorLogs('qemu+tcp://node7/system', 'd')).to.deep.equal([]);
      expect(hypervisorLogs('test:///default', 'd')).to.deep.equal([]);
    });

    it('records site, job, VM and node in metadata that parses back', () => {
      const xml = buildDomainXml(domainSpec());
      expect(parseVmMetadata(xml)).to.deep.equal(META);
      // libvirt re-serialises with its own indentation and may reorder attributes
      const reformatted = `<domain type='test' id='3'>\n  <name>x</name>\n  <metadata>\n    <b:vm xmlns:b="urn:brine:libvirt:v1" vm="vm-1" job="j-42" node="a1" site="site-a"/>\n  </metadata>\n</domain>`;
      expect(parseVmMetadata(reformatted)).to.deep.include({ site: 'site-a', job: 'j-42', vm: 'vm-1', node: 'a1' });
      expect(parseVmMetadata(`<domain><name>test</name></domain>`)).to.equal(null);
      // another tool's metadata element named vm is not brine's
      expect(parseVmMetadata(`<domain><metadata><o:vm xmlns:o="urn:other" site="s" job="j" vm="v" node="n"/></metadata></domain>`)).to.equal(null);
    });

    it('escapes XML special characters in every value', () => {
      expect(xmlEscape(`a&b<c>"d"'e'`)).to.equal('a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;');
      const xml = buildDomainXml(
        domainSpec({
          boot: { kind: 'kernel', kernel: `/k/<evil>&'`, initrd: '/i', cmdline: `console=ttyS0 x="1" </cmdline>` },
          consolePath: `/data/it's.log`,
          metadata: { ...META, image: `a"b&c` },
        }),
      );
      expect(xml).to.include('<kernel>/k/&lt;evil&gt;&amp;&apos;</kernel>');
      expect(xml).to.include('<cmdline>console=ttyS0 x=&quot;1&quot; &lt;/cmdline&gt;</cmdline>');
      expect(xml).to.include(`<source path='/data/it&apos;s.log' append='on'/>`);
      expect(xml.match(/<\/cmdline>/g)).to.have.length(1);
      expect(parseVmMetadata(xml)?.image).to.equal(`a"b&c`);
    });
  });

  describe('network XML', () => {
    it('builds an isolated network: bridge, gateway, prefix, one static DHCP host per VM', () => {
      const xml = buildNetworkXml(NET);
      expect(xml).to.include('<name>brine-site-a-j-42</name>');
      expect(xml).to.include(`<bridge name='${bridgeName('site-a', 'j-42')}'`);
      expect(xml).to.include(`<ip address='10.144.0.1' prefix='29'>`);
      expect(xml).to.not.include('<forward');
      expect(xml).to.not.include('<range');
      const hosts = parseDhcpHosts(xml);
      expect(hosts).to.deep.equal([
        { name: 'vm-0', mac: '02:b1:0a:00:00:01', ip: '10.144.0.2' },
        { name: 'vm-1', mac: '02:b1:0a:00:00:02', ip: '10.144.0.3' },
        { name: 'vm-2', mac: '02:b1:0a:00:00:03', ip: '10.144.0.4' },
      ]);
      expect(parseNetworkMetadata(xml)).to.deep.equal({ site: 'site-a', job: 'j-42', subnet: '10.144.0.0/29', gateway: '10.144.0.1' });
    });

    it('with egress, asks libvirt for NAT; everything else as the isolated network', () => {
      const xml = buildNetworkXml({ ...NET, egress: true });
      expect(xml.match(/<forward[^>]*>/g)).to.deep.equal([`<forward mode='nat'/>`]);
      expect(xml.replace(`  <forward mode='nat'/>\n`, '')).to.equal(buildNetworkXml(NET));
      expect(buildNetworkXml({ ...NET, egress: false })).to.equal(buildNetworkXml(NET));
    });

    it('escapes host names and rejects a subnet without a prefix', () => {
      const xml = buildNetworkXml({ ...NET, hosts: [{ name: `a'b`, mac: '02:00:00:00:00:01', ip: '10.144.0.2' }] });
      expect(xml).to.include(`name='a&apos;b'`);
      expect(() => buildNetworkXml({ ...NET, subnet: '10.144.0.0' })).to.throw(/prefix/);
    });
  });

  describe('capabilities', () => {
    const caps = (types: string[], cpu = `<vendor>Intel</vendor><feature name='vmx'/>`): string => `<capabilities>
        <host><cpu><arch>x86_64</arch><model>Broadwell-noTSX-IBRS</model>${cpu}<feature name='hypervisor'/></cpu></host>
        <guest><os_type>hvm</os_type><arch name='i686'><domain type='kvm'/></arch></guest>
        <guest><os_type>hvm</os_type><arch name='x86_64'>${types.map((t) => `<domain type='${t}'/>`).join('')}</arch></guest>
      </capabilities>`;
    const pick = (c: string, accel?: 'auto' | 'kvm' | 'tcg'): { type: string; arch: string } => {
      const { type, arch } = pickGuest(c, accel);
      return { type, arch };
    };

    it('auto: kvm where the host CPU shows hardware virtualization, qemu (TCG) otherwise', () => {
      expect(pick(caps(['qemu', 'kvm']))).to.deep.equal({ type: 'kvm', arch: 'x86_64' });
      expect(pick(caps(['qemu', 'kvm'], `<vendor>AMD</vendor><feature name='svm'/>`))).to.deep.equal({ type: 'kvm', arch: 'x86_64' });
      expect(pick(caps(['qemu']))).to.deep.equal({ type: 'qemu', arch: 'x86_64' });
    });

    it('auto: a /dev/kvm without vmx/svm on the host CPU (paravirtual KVM such as PVM) gets TCG, and says why', () => {
      const g = pickGuest(caps(['qemu', 'kvm'], `<vendor>Intel</vendor>`));
      expect({ type: g.type, arch: g.arch }).to.deep.equal({ type: 'qemu', arch: 'x86_64' });
      expect(g.why).to.match(/no vmx\/svm/);
      // an AMD host that is itself a VM (libvirt's model kvm64, `hypervisor`, no svm): seen on CI
      expect(pick(caps(['qemu', 'kvm'], `<vendor>AMD</vendor>`))).to.deep.equal({ type: 'qemu', arch: 'x86_64' });
    });

    it('accel: kvm forces kvm (and refuses a host without it); accel: tcg forces qemu', () => {
      expect(pick(caps(['qemu', 'kvm'], `<vendor>Intel</vendor>`), 'kvm')).to.deep.equal({ type: 'kvm', arch: 'x86_64' });
      expect(() => pickGuest(caps(['qemu']), 'kvm')).to.throw(BrineError, /accel: kvm, but libvirt offers no kvm guest/);
      expect(pick(caps(['qemu', 'kvm']), 'tcg')).to.deep.equal({ type: 'qemu', arch: 'x86_64' });
    });

    it('uses the test driver’s own guest on test:///default', () => {
      const testCaps = `<capabilities><host><cpu><arch>i686</arch></cpu></host>
        <guest><os_type>hvm</os_type><arch name='i686'><wordsize>32</wordsize><domain type='test'/></arch></guest>
        <guest><os_type>xen</os_type><arch name='i686'><domain type='test'/></arch></guest></capabilities>`;
      expect(pick(testCaps)).to.deep.equal({ type: 'test', arch: 'i686' });
      expect(pick(testCaps, 'tcg')).to.deep.equal({ type: 'test', arch: 'i686' });
    });
  });

  describe('VM states and cluster specs', () => {
    it('maps libvirt states to brine’s', () => {
      expect(vmState('running')).to.equal('RUNNING');
      expect(vmState('paused')).to.equal('PAUSED');
      expect(vmState('shutoff')).to.equal('SHUTOFF');
      expect(vmState('crashed')).to.equal('CRASHED');
      expect(vmState('shutdown')).to.equal('RUNNING');
    });

    const site = {
      nodes: [{ name: 'a1', uri: 'test:///default', cpus: 4, memoryMiB: 4096 }],
      images: { tiny: { kind: 'kernel' as const, kernel: '/k', initrd: '/i', cmdline: '' } },
    };
    const spec = (over: Partial<ClusterSpec> = {}): ClusterSpec => ({
      jobId: 'j1',
      jobName: 'demo',
      image: 'tiny',
      userData: Buffer.alloc(0),
      meta: {},
      egress: false,
      outputDiskMiB: 0,
      cpus: 1,
      memoryMiB: 128,
      subnet: '10.144.0.0/29',
      gateway: '10.144.0.1',
      vms: [
        { name: 'vm-0', node: 'a1', mac: '02:b1:0a:00:00:01', ip: '10.144.0.2' },
        { name: 'vm-1', node: 'a1', mac: '02:b1:0a:00:00:02', ip: '10.144.0.3' },
      ],
      ...over,
    });
    const field = (s: ClusterSpec, facts: Parameters<typeof validateClusterSpec>[1] = site): string | undefined => {
      try {
        validateClusterSpec(s, facts);
      } catch (err) {
        expect(err).to.be.instanceOf(BrineError);
        expect((err as BrineError).code).to.equal('INVALID_ARGUMENT');
        return (err as BrineError).field;
      }
      return undefined;
    };

    it('accepts a good spec and names the field of a bad one', () => {
      expect(field(spec())).to.equal(undefined);
      expect(field(spec({ image: 'huge' }))).to.equal('cluster.image');
      expect(field(spec({ jobId: 'J_1' }))).to.equal('cluster.jobId');
      expect(field(spec({ cpus: 0 }))).to.equal('cluster.cpus');
      expect(field(spec({ memoryMiB: -5 }))).to.equal('cluster.memoryMiB');
      expect(field(spec({ subnet: '10.144.0.1/29' }))).to.equal('cluster.subnet');
      expect(field(spec({ gateway: '10.144.0.7' }))).to.equal('cluster.gateway');
      expect(field(spec({ vms: [] }))).to.equal('cluster.vms');
      const vms = spec().vms;
      expect(field(spec({ vms: [{ ...vms[0]!, node: 'zz' }] }))).to.equal('cluster.vms[0].node');
      expect(field(spec({ vms: [vms[0]!, { ...vms[1]!, mac: '02:b1:0a:00:00:01' }] }))).to.equal('cluster.vms[1].mac');
      expect(field(spec({ vms: [{ ...vms[0]!, mac: '03:00:00:00:00:01' }] }))).to.equal('cluster.vms[0].mac');
      expect(field(spec({ vms: [vms[0]!, { ...vms[1]!, ip: '10.144.0.2' }] }))).to.equal('cluster.vms[1].ip');
      expect(field(spec({ vms: [{ ...vms[0]!, ip: '10.144.0.1' }] }))).to.equal('cluster.vms[0].ip');
      expect(field(spec({ vms: [{ ...vms[0]!, name: 'VM 0' }] }))).to.equal('cluster.vms[0].name');
      expect(field(spec({ cpus: 8 }))).to.equal('cluster.vms[0].node');
    });

    it('takes a cluster asking for egress only where the site allows it', () => {
      expect(field(spec({ egress: true }))).to.equal('cluster.egress');
      expect(() => validateClusterSpec(spec({ egress: true }), { ...site, egress: true })).not.to.throw();
    });

    it('takes an output disk only up to the size the site allows', () => {
      expect(field(spec({ outputDiskMiB: 16 }))).to.equal('cluster.outputDiskMiB');
      expect(() => validateClusterSpec(spec({ outputDiskMiB: 64 }), { ...site, maxOutputDiskMiB: 64 })).not.to.throw();
      expect(field(spec({ outputDiskMiB: 65 }), { ...site, maxOutputDiskMiB: 64 })).to.equal('cluster.outputDiskMiB');
      expect(field(spec({ outputDiskMiB: -1 }), { ...site, maxOutputDiskMiB: 64 })).to.equal('cluster.outputDiskMiB');
    });
  });
});
