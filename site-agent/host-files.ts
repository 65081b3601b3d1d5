// Side effects other than libvirt: files on the node hosts (consoles, overlays, QEMU's own logs).
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathExists } from '../src/shared/files.js';
import { promisify } from 'node:util';

// Side effects other than libvirt: files on the node hosts.

/** Files next to the VMs (console logs, disk overlays). Local paths: see `localFiles`. */
export interface HostFiles {
  ensureDir(dir: string): Promise<void>;
  /** succeeds if already gone */
  remove(file: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  /** a qcow2 overlay backed by `base` */
  createOverlay(base: string, overlay: string): Promise<void>;
}

const run = promisify(execFile);

/**
 * The agent's own filesystem. Consoles and overlays are written by libvirt on the node, so for a
 * remote node (`qemu+ssh://`) the data dir must be the same path on that host (a shared mount).
 */
export const localFiles: HostFiles = {
  async ensureDir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async remove(file) {
    await rm(file, { force: true });
  },
  exists: pathExists,
  async createOverlay(base, overlay) {
    await mkdir(dirname(overlay), { recursive: true });
    const { stdout } = await run('qemu-img', ['info', '--output=json', base]);
    const format = (JSON.parse(stdout) as { format?: string }).format ?? 'raw';
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', format, '-b', base, overlay]);
  },
};

/** How many rotated copies (`NAME.log.0` …) of a domain's QEMU log are looked for (virtlogd keeps 3). */
const ROTATED_LOGS = 10;

/**
 * The log file libvirt's QEMU driver writes per domain (QEMU's stderr, start and stop lines) and its
 * rotated copies, when they are on this host: for a local URI (`qemu:///system`,
 * `qemu:///session`); none for remote nodes (their libvirtd's own housekeeping) or other drivers.
 */
export function hypervisorLogs(uri: string, domain: string, env: NodeJS.ProcessEnv = process.env): string[] {
  let dir: string;
  if (/^qemu(\+unix)?:\/\/\/system(\?|$)/.test(uri)) dir = '/var/log/libvirt/qemu';
  else if (/^qemu(\+unix)?:\/\/\/session(\?|$)/.test(uri)) dir = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'libvirt', 'qemu', 'log');
  else return [];
  const log = join(dir, `${domain}.log`);
  return [log, ...Array.from({ length: ROTATED_LOGS }, (_, i) => `${log}.${i}`)];
}
