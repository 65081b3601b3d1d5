// Start-up recovery of captures an earlier agent left unfinished (`<dataDir>/work/<id>/intent.json`).
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { pathExists } from '../src/shared/files.js';
import { join } from 'node:path';
import { errorMessage, NotAllowedError } from '../src/shared/errors.js';
import { isNoDomain } from './libvirt/errors.js';
import type { LibvirtConnection } from './libvirt/types.js';
import { errno, intentSchema, isTestUri, type Intent, type RecoveryReport } from './snapshot-format.js';
import { SnapshotPart } from './snapshot-part.js';

export class SnapshotRecovery extends SnapshotPart {
  /**
   * Run at start-up, before adoption and registration: for each capture an earlier agent left
   * unfinished (`<dataDir>/work/<id>/intent.json`), makes its VMs run again (resumes the paused,
   * restores the saved) unless its snapshot was committed as a suspend, in which case the cluster
   * is removed as the suspend asked. Then every work file goes.
   */
  async recover(): Promise<RecoveryReport[]> {
    let names: string[];
    try {
      names = await readdir(this.workDir);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const reports: RecoveryReport[] = [];
    for (const name of names) {
      const dir = join(this.workDir, name);
      let intent: Intent | null = null;
      try {
        intent = intentSchema.parse(JSON.parse(await readFile(join(dir, 'intent.json'), 'utf8')));
      } catch (err) {
        // a restore's staging, or a capture killed before it paused anything: files only
        this.log.debug({ dir: name, err: errorMessage(err) }, 'recovery: no readable intent (not a capture, or cut before any pause)');
      }
      if (intent) reports.push(await this.recoverCapture(intent));
      await rm(dir, { recursive: true, force: true });
      this.log.info({ dir: name }, 'recovery: removed work files of an interrupted snapshot or restore');
    }
    return reports;
  }

  private async recoverCapture(intent: Intent): Promise<RecoveryReport> {
    const log = this.log.child({ job: intent.job, snapshot: intent.snapshotId });
    const report: RecoveryReport = {
      snapshotId: intent.snapshotId,
      job: intent.job,
      kind: intent.kind,
      committed: false,
      resumed: [],
      restored: [],
      removedCluster: false,
      problems: [],
    };
    report.committed = (await this.manifestOrNull(intent.snapshotId).catch((err: unknown) => {
      log.error({ err: errorMessage(err) }, 'recovery: the store cannot say whether the snapshot was committed; treating it as not');
      return null;
    })) !== null;
    if (report.committed && intent.kind === 'suspend') {
      // The snapshot is durable: finish the suspend. Only if no VM runs (one that runs was
      // resumed since, by whoever: leave it).
      await this.o.clusters.withJobLock(intent.job, async () => {
        const status = await this.o.clusters.clusterStatus(intent.job);
        if (status && status.vms.length > 0 && status.vms.every((v) => v.state !== 'RUNNING')) {
          await this.o.clusters.destroyHeld(intent.job, `suspended: snapshot ${intent.snapshotId} (finished at start-up)`);
          report.removedCluster = true;
        }
      });
      log.warn({ removedCluster: report.removedCluster }, 'recovery: finished a suspend interrupted after its snapshot was stored');
      return report;
    }
    const byUri = new Map<string, LibvirtConnection>();
    try {
      for (const vm of intent.vms) {
        try {
          let conn = byUri.get(vm.uri);
          if (!conn) byUri.set(vm.uri, (conn = await this.connect(vm.uri)));
          const did = await makeRunning(conn, vm.domain, vm.memFile, vm.uri);
          if (did === 'resumed') report.resumed.push(vm.name);
          if (did === 'restored') report.restored.push(vm.name);
        } catch (err) {
          report.problems.push(`${vm.name}: ${errorMessage(err)}`);
        }
      }
    } finally {
      await Promise.allSettled([...byUri.values()].map((c) => c.close()));
    }
    const fields = { kind: intent.kind, committed: report.committed, resumed: report.resumed, restored: report.restored, problems: report.problems };
    if (report.problems.length > 0) log.error(fields, 'recovery: an interrupted snapshot left VMs that do not run');
    else log.warn(fields, 'recovery: VMs of an interrupted snapshot run again');
    return report;
  }
}

/**
 * Makes a VM that a capture paused or saved run again. A save may still be under way in libvirtd
 * (the agent died, libvirtd did not): libvirt then waits for it, so a failed attempt is retried
 * after looking at the state again.
 */
export async function makeRunning(conn: LibvirtConnection, domain: string, memFile: string, uri: string): Promise<'resumed' | 'restored' | 'running'> {
  let last: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
    try {
      const info = await conn.lookupDomain(domain);
      if (info && (info.state === 'running' || info.state === 'blocked')) return 'running';
      if (info && (info.state === 'paused' || info.state === 'pmsuspended')) {
        await conn.resumeDomain(domain);
        return 'resumed';
      }
      // Saved (stopped, or gone if it was transient): its save image brings it back.
      if (await pathExists(memFile)) {
        await conn.restoreDomain(memFile, isTestUri(uri) ? {} : { paused: false });
        return 'restored';
      }
      throw new NotAllowedError(`domain ${domain} is ${info?.state ?? 'gone'} and no save image is left`);
    } catch (err) {
      if (isNoDomain(err) && !(await pathExists(memFile))) throw err;
      last = err;
    }
  }
  throw last;
}
