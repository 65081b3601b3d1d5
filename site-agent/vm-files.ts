// Where each VM's files live on the agent's host, under its data dir (names are libvirt domain
// names, so a VM keeps them across restores at this site).
import { join } from 'node:path';

export interface VmFiles {
  consoleDir: string;
  /** `<dataDir>/consoles/<domain>.log`: QEMU appends the serial console there */
  consolePath(domain: string): string;
  /** `<dataDir>/disks/<domain>.qcow2`: the root disk overlay, if the image has a disk */
  overlayPath(domain: string): string;
  /** `<dataDir>/disks/<domain>.output.qcow2`: the output disk (`submit --output-disk`, ./output-disk.ts) */
  outputPath(domain: string): string;
  /** `<dataDir>/seeds/<domain>.iso`: the cloud-init seed (./seed.ts) */
  seedPath(domain: string): string;
}

export function vmFiles(dataDir: string): VmFiles {
  const consoleDir = join(dataDir, 'consoles');
  return {
    consoleDir,
    consolePath: (domain) => join(consoleDir, `${domain}.log`),
    overlayPath: (domain) => join(dataDir, 'disks', `${domain}.qcow2`),
    outputPath: (domain) => join(dataDir, 'disks', `${domain}.output.qcow2`),
    seedPath: (domain) => join(dataDir, 'seeds', `${domain}.iso`),
  };
}
