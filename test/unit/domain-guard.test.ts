import { expect } from 'chai';
import { guardRestoredXml, type OwnedByVm } from '../../site-agent/domain-guard.js';

const META = `<brine:vm xmlns:brine="https://brine.example/v1" site="site-b" job="j1" vm="v0"/>`;
const owned: OwnedByVm = {
  metadata: META,
  files: ['/data/site-b/consoles/brine-j1-v0.log'],
  image: { kind: 'kernel', kernel: '/images/vmlinuz', initrd: '/images/initrd', cmdline: 'console=ttyS0' },
  networks: ['brine-site-b-j1'],
};

/** A snapshot's domain XML as the source site made it, with `extra` devices. */
function xml(extra = '', os = '<kernel>/src-site/vmlinuz</kernel><initrd>/src-site/initrd</initrd>'): string {
  return `<domain type='qemu'><name>brine-j1-v0</name><metadata>${META}</metadata><os><type>hvm</type>${os}<cmdline>console=ttyS0</cmdline></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<interface type='network'><mac address='02:00:00:00:00:01'/><source network='brine-site-b-j1'/><model type='virtio'/></interface>
<serial type='file'><source path='/data/site-b/consoles/brine-j1-v0.log' append='on'/><target port='0'/></serial>${extra}</devices></domain>`;
}

describe('domain-guard: a restored domain XML is never trusted as received', () => {
  it("sets kernel and initrd from this site's image config and keeps the rest", () => {
    const out = guardRestoredXml(xml(), owned, 'VM v0');
    expect(out).to.include('<kernel>/images/vmlinuz</kernel>');
    expect(out).to.include('<initrd>/images/initrd</initrd>');
    expect(out).to.include("<target port='0'/>");
  });

  const attacks: Array<[string, string, RegExp]> = [
    ['a disk on /etc/shadow', `<disk type='file' device='disk'><source file='/etc/shadow'/><target dev='vda'/></disk>`, /host path that is not this VM's: "\/etc\/shadow"/],
    ['a block device', `<disk type='block' device='disk'><source dev='/dev/sda'/><target dev='vdb'/></disk>`, /a disk that is not a file/],
    ['a host directory', `<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>`, /shared host directory/],
    ['a PCI passthrough', `<hostdev mode='subsystem' type='pci'/>`, /host device passthrough/],
    ['an interface on the host network', `<interface type='direct'><source dev='eth0' mode='bridge'/></interface>`, /not on the cluster network/],
    ['an interface on another cluster', `<interface type='network'><source network='brine-site-b-j2'/></interface>`, /another network: "brine-site-b-j2"/],
    ['another emulator', `<emulator>/bin/sh</emulator>`, /emulator outside the QEMU install/],
    ['raw QEMU arguments', `<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-x'/></qemu:commandline>`, /raw QEMU arguments/],
  ];
  for (const [what, extra, message] of attacks) {
    it(`refuses ${what}`, () => {
      expect(() => guardRestoredXml(xml(extra), owned, 'VM v0')).to.throw(message);
    });
  }

  it('refuses an XML without this VM\'s brine metadata, and a kernel for a disk image', () => {
    expect(() => guardRestoredXml(xml().replace(META, ''), owned, 'VM v0')).to.throw(/no brine metadata/);
    expect(() => guardRestoredXml(xml(), { ...owned, image: { kind: 'disk', disk: '/images/base.qcow2' } }, 'VM v0')).to.throw(/a kernel for an image/);
  });

  it('quotes at most 100 characters of a bad path', () => {
    const long = `/${'x'.repeat(5000)}`;
    let message = '';
    try {
      guardRestoredXml(xml(`<disk type='file'><source file='${long}'/></disk>`), owned, 'VM v0');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/host path/);
    expect(message.length).to.be.lessThan(400);
  });
});
