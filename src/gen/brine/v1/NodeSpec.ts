// Original file: proto/brine/v1/coordinator.proto


export interface NodeSpec {
  'name'?: (string);
  'uri'?: (string);
  'cpus'?: (number);
  'memoryMiB'?: (number);
  /**
   * the guest architecture and the libvirt domain type new VMs get on this node ("kvm", "qemu"
   * for TCG, "test"), and every type it can run: a saved VM restores only under its own type and
   * architecture, so a move checks these (empty from agents older than this field: not checked)
   */
  'arch'?: (string);
  'domainType'?: (string);
  'domainTypes'?: (string)[];
  /**
   * the host CPU model libvirt reports (informative: guests use QEMU's default CPU model)
   */
  'cpuModel'?: (string);
}

export interface NodeSpec__Output {
  'name': (string);
  'uri': (string);
  'cpus': (number);
  'memoryMiB': (number);
  /**
   * the guest architecture and the libvirt domain type new VMs get on this node ("kvm", "qemu"
   * for TCG, "test"), and every type it can run: a saved VM restores only under its own type and
   * architecture, so a move checks these (empty from agents older than this field: not checked)
   */
  'arch': (string);
  'domainType': (string);
  'domainTypes': (string)[];
  /**
   * the host CPU model libvirt reports (informative: guests use QEMU's default CPU model)
   */
  'cpuModel': (string);
}
