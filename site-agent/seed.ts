// Each VM's cloud-init NoCloud seed (issue 12): a read-only ISO 9660 volume labelled `cidata`
// holding `meta-data`, `user-data` and `network-config`, built by this agent from the spec it
// received, at every deploy and every restore: never a file carried from another site.
// The content is pure (`seedFiles`); writing the image (`SeedWriter`) is the side effect.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { InternalError } from '../src/shared/errors.js';
import type { ClusterSpec } from '../src/shared/proto.js';
import { USER_DATA_CEILING_KIB, checkMeta, checkUserData } from '../src/shared/seed-input.js';
import { domainName } from './domain-xml.js';

/**
 * The seed's disk target. Fixed, and last of the virtio letters, so the root disk (vda) and disks
 * added later keep their names; the guest finds the seed by its label, not its name. The device's
 * PCI address is chosen by libvirt at define and kept in the saved XML, so a restored VM finds its
 * seed where it was (only the host-side file path is rewritten, see snapshots.ts).
 */
export const SEED_TARGET = 'vdz';
export const SEED_LABEL = 'cidata';

export interface SeedFiles {
  'meta-data': string;
  'user-data': Buffer;
  'network-config': string;
}

/**
 * The seed of one VM. `instance-id` is the VM's domain name: stable across moves and restores, so a
 * guest rebooted after a move is not taken by cloud-init for a new instance (which would run the
 * user-data again). `local-hostname` is the VM's name. The network config asks DHCP on every
 * Ethernet NIC by name, not by MAC: a move gives the VM a new MAC (its NIC is swapped while it
 * runs), and the network's DHCP hands out the leased address for it. The entry's id is the glob
 * too: netplan reads `match.name`, while cloud-init's own renderers (networkd here) take the id as
 * the interface name (cloud-init 22.4 drops a name match without a MAC), and networkd's `Name=e*`
 * is a glob as well.
 */
export function seedFiles(spec: Pick<ClusterSpec, 'jobId' | 'userData' | 'meta'>, vm: string): SeedFiles {
  const meta = { ...spec.meta, 'instance-id': domainName(spec.jobId, vm), 'local-hostname': vm };
  const network = { version: 2, ethernets: { 'e*': { match: { name: 'e*' }, dhcp4: true } } };
  return {
    'meta-data': stringify(meta),
    'user-data': Buffer.from(spec.userData),
    'network-config': stringify(network),
  };
}

/** The agent's own check of a spec's seed fields (the coordinator checked them at submit). */
export function validateSeedSpec(spec: Pick<ClusterSpec, 'userData' | 'meta'>, prefix = 'cluster'): void {
  checkUserData(spec.userData.length, USER_DATA_CEILING_KIB * 1024, `${prefix}.userData`);
  checkMeta(spec.meta, `${prefix}.meta`);
}

/** Writes a seed image at `path`, atomically (a crash leaves the old file or none, never half of one). */
export interface SeedWriter {
  write(path: string, files: SeedFiles): Promise<void>;
}

const run = promisify(execFile);

/**
 * ISO 9660 with Rock Ridge and Joliet (long lower-case names) by Debian's `genisoimage`, the
 * command cloud-init's own documentation gives for NoCloud. Files are staged in `workDir` (the
 * agent clears `<dataDir>/work` at start, so a crash leaves nothing behind).
 */
export function isoSeedWriter(workDir: string): SeedWriter {
  return {
    async write(path, files) {
      await mkdir(workDir, { recursive: true });
      await mkdir(dirname(path), { recursive: true });
      const stage = await mkdtemp(join(workDir, 'seed-'));
      try {
        const names = Object.keys(files) as Array<keyof SeedFiles>;
        for (const name of names) await writeFile(join(stage, name), files[name]);
        const tmp = join(stage, 'seed.iso');
        try {
          await run('genisoimage', ['-quiet', '-output', tmp, '-volid', SEED_LABEL, '-joliet', '-rock', '-input-charset', 'utf-8', ...names.map((n) => join(stage, n))]);
        } catch (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          throw new InternalError(
            missing
              ? 'genisoimage is not installed: it builds the VMs\' cloud-init seeds (apt-get install genisoimage; scripts/setup-host.sh does it)'
              : `genisoimage failed building the seed ${path}: ${(err as Error).message}`,
            err,
          );
        }
        await rename(tmp, path);
      } finally {
        await rm(stage, { recursive: true, force: true });
      }
    },
  };
}
