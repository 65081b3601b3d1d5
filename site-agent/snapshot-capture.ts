// TakeSnapshot: a coordinated capture of a whole cluster into the site's store.
//
// A capture, under the job's lock (ClusterManager.withJobLock):
//   1. one libvirt connection per VM, opened before anything is paused: calls on one connection run
//      one after the other (one worker thread each), so only separate connections let the pauses,
//      dumps and resumes of a cluster's VMs really run at the same time;
//   2. every VM paused at once (`pauseSkewMs` = last pause − first pause). From then on no VM of
//      the cluster sends anything, so whatever instant each VM's state is captured at, the cut is
//      consistent: a packet can be lost (TCP resends it) but never received without being sent;
//   3. each VM's memory written to `<dataDir>/work/<snapshotId>/` (an external memory snapshot on
//      QEMU, which leaves the paused QEMU process in place; `virDomainSave`, which stops it, on the
//      test driver) and its qcow2 disks copied while it is paused (QEMU flushed them when pausing);
//   4. checkpoint: every VM running again (resume, or restore of the save image): the downtime
//      ends here. Suspend: the VMs stay paused (or saved) until the snapshot is durable;
//   5. the files fed to the store (outside the downtime), the manifest committed; for a suspend,
//      the cluster is then removed from the nodes like a destroy (domains, network, consoles,
//      overlays: the consoles are in the snapshot and come back with a restore);
//   6. the work files deleted.
// Any failure before the commit: every VM paused or saved runs again, the store's writer is
// aborted (no manifest), the work files go, and a typed error says what failed.
import { constants as fsConstants, createReadStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, errorMessage, InvalidArgumentError, NotAllowedError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { Snapshot } from '../src/shared/proto.js';
import { consoleSourceOf, fileDisks, memorySnapshotXml, networkName, parseVmMetadata } from './domain-xml.js';
import { findInterfaces, macOf } from './libvirt/nic-swap.js';
import type { LibvirtConnection } from './libvirt/types.js';
import type { SnapshotWriter } from './snapshot-store/index.js';
import { SNAPSHOT_ID_RE, type SnapshotManifest } from './snapshot-store/manifest.js';
import {
  captureCode,
  consoleFile,
  diskFile,
  isTestUri,
  memoryFile,
  SnapshotFailedError,
  xmlFile,
  type CaptureMethod,
  type CapturedDisk,
  type CapturedVm,
  type Intent,
  type SnapshotKind,
} from './snapshot-format.js';
import { SnapshotPart } from './snapshot-part.js';
import { makeRunning } from './snapshot-recovery.js';

export interface TakeSnapshotInput {
  jobId: string;
  snapshotId: string;
  kind: string;
  operationId?: string;
}

/** Copies a file, sharing its blocks (reflink) where the file system can: instant on XFS/btrfs. */
async function cloneFile(from: string, to: string): Promise<void> {
  await copyFile(from, to, fsConstants.COPYFILE_FICLONE);
}

/** One VM during a capture. */
interface Capture {
  name: string;
  node: string;
  domain: string;
  uri: string;
  method: CaptureMethod;
  conn: LibvirtConnection | null;
  memFile: string;
  xmlFile: string;
  liveXml: string;
  mac: string;
  ip: string;
  network: string;
  console: string;
  consoleBytes: number;
  disks: CapturedDisk[];
  /** what this capture did to the VM, for undoing it */
  phase: 'running' | 'paused' | 'saved' | 'resumed';
  pausedAt: number;
  capturedAt: number;
  runningAt: number;
  captureMs: number;
}

export class SnapshotCapture extends SnapshotPart {
  /**
   * Takes a coordinated snapshot of the job's cluster and returns it once its manifest is durable.
   * Idempotent on `snapshotId`: if the store has it, it is returned without capturing again (and a
   * suspend cut short after its commit finishes removing the cluster).
   */
  async take(input: TakeSnapshotInput): Promise<Snapshot> {
    const { jobId, snapshotId } = input;
    if (!SNAPSHOT_ID_RE.test(snapshotId)) {
      throw new InvalidArgumentError('snapshotId', `"${snapshotId}": letters, digits, '.', '_', '-' (not first), at most 128`);
    }
    if (input.kind !== 'checkpoint' && input.kind !== 'suspend') {
      throw new InvalidArgumentError('kind', `expected "checkpoint" or "suspend", got "${input.kind}"`);
    }
    const kind: SnapshotKind = input.kind;
    return this.o.clusters.withJobLock(jobId, () => this.takeHeld(jobId, snapshotId, kind, input.operationId ?? ''));
  }

  private async takeHeld(jobId: string, snapshotId: string, kind: SnapshotKind, operationId: string): Promise<Snapshot> {
    const log = this.log.child({ job: jobId, snapshot: snapshotId });
    const existing = await this.manifestOrNull(snapshotId);
    if (existing) return this.alreadyTaken(existing, jobId, kind, log);

    const status = await this.o.clusters.clusterStatus(jobId);
    if (!status || status.vms.length === 0) {
      throw new NotAllowedError(`job ${jobId} has no cluster on site ${this.o.clusters.site}: nothing to snapshot`);
    }
    const notRunning = status.vms.filter((v) => v.state !== 'RUNNING');
    if (notRunning.length > 0) {
      throw new NotAllowedError(
        `cannot snapshot job ${jobId}: ${notRunning.map((v) => `VM ${v.name} is ${v.state}`).join(', ')} (every VM must be RUNNING)`,
      );
    }

    const work = join(this.workDir, snapshotId);
    const vms: Capture[] = status.vms.map((v) => {
      const uri = this.o.clusters.nodeUri(v.node);
      return {
        name: v.name,
        node: v.node,
        domain: v.domain,
        uri,
        method: this.methodFor(uri),
        conn: null,
        memFile: join(work, `${v.name}.mem`),
        xmlFile: join(work, `${v.name}.xml`),
        liveXml: '',
        mac: '',
        ip: '',
        network: networkName(this.o.clusters.site, jobId),
        console: this.o.clusters.consolePath(v.domain),
        consoleBytes: -1,
        disks: [],
        phase: 'running',
        pausedAt: 0,
        capturedAt: 0,
        runningAt: 0,
        captureMs: 0,
      };
    });
    log.info({ operationId, kind, vms: vms.length, methods: [...new Set(vms.map((v) => v.method))] }, 'snapshot: capturing cluster');
    let writer: SnapshotWriter | null = null;
    let committed: SnapshotManifest | null = null;
    const started = Date.now();
    try {
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      // Written before anything is paused: an agent killed from here on finds it at start-up
      // (`recover`) and makes these VMs run again.
      const intent: Intent = { snapshotId, job: jobId, kind, vms: vms.map((v) => ({ name: v.name, domain: v.domain, uri: v.uri, memFile: v.memFile })) };
      await writeFile(join(work, 'intent.json'), JSON.stringify(intent) + '\n');
      await Promise.all(
        vms.map(async (vm) => {
          vm.conn = await this.connect(vm.uri);
        }),
      );
      await Promise.all(vms.map((vm) => this.prepare(vm)));

      // --- downtime starts: every VM paused at once, on its own connection.
      const pauses = await Promise.allSettled(
        vms.map(async (vm) => {
          await (vm.conn as LibvirtConnection).suspendDomain(vm.domain);
          vm.pausedAt = Date.now();
          vm.phase = 'paused';
        }),
      );
      const pauseFailed = pauses.find((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (pauseFailed) throw pauseFailed.reason;
      await Promise.all(vms.map((vm) => this.captureVm(vm, log)));
      if (kind === 'checkpoint') {
        await Promise.all(vms.map((vm) => this.runAgain(vm)));
      }
      // --- downtime over (checkpoint); a suspend's VMs stay paused until the snapshot is durable.

      const first = Math.min(...vms.map((v) => v.pausedAt));
      const pauseSkewMs = Math.max(...vms.map((v) => v.pausedAt)) - first;
      const downOf = (v: Capture): number => (kind === 'checkpoint' ? v.runningAt : v.capturedAt) - v.pausedAt;
      const downtimeMs = Math.max(...vms.map(downOf));
      log.info(
        {
          kind,
          pauseSkewMs,
          downtimeMs,
          perVm: Object.fromEntries(vms.map((v) => [v.name, { downMs: downOf(v), captureMs: v.captureMs }])),
        },
        kind === 'checkpoint' ? 'snapshot: cluster captured and running again' : 'snapshot: cluster captured (paused until stored)',
      );

      // The store: outside the downtime.
      const storeStart = Date.now();
      const w = await this.o.store.beginSnapshot(snapshotId, jobId);
      writer = w;
      const captured: CapturedVm[] = vms.map((v) => ({
        name: v.name,
        node: v.node,
        domain: v.domain,
        mac: v.mac,
        ip: v.ip,
        network: v.network,
        console: v.console,
        hasConsole: v.consoleBytes >= 0,
        disks: v.disks,
        pausedAtMs: v.pausedAt - first,
        downMs: downOf(v),
        captureMs: v.captureMs,
      }));
      await Promise.all(
        vms.flatMap((v) => [
          w.addFile(memoryFile(v.name), v.memFile, { vm: v.name, kind: 'memory' }),
          w.addFile(xmlFile(v.name), v.xmlFile, { vm: v.name, kind: 'xml' }),
          ...v.disks.map((d) => w.addFile(d.file, join(work, `${v.name}.${d.target}.qcow2`), { vm: v.name, kind: 'disk' })),
          // The console as it was when the VM was paused: what the guest printed up to the snapshot.
          ...(v.consoleBytes > 0
            ? [w.addFile(consoleFile(v.name), createReadStream(v.console, { start: 0, end: v.consoleBytes - 1 }), { vm: v.name, kind: 'other' })]
            : v.consoleBytes === 0
              ? [w.addFile(consoleFile(v.name), new Uint8Array(0), { vm: v.name, kind: 'other' })]
              : []),
        ]),
      );
      committed = await w.commit({
        createdAt: new Date(first),
        meta: {
          kind,
          site: this.o.clusters.site,
          method: [...new Set(vms.map((v) => v.method))].join(','),
          pauseSkewMs,
          downtimeMs,
          vms: JSON.stringify(captured),
        },
      });
      log.info(
        { totalBytes: committed.totalBytes, newBytes: committed.newBytes, storeMs: Date.now() - storeStart, totalMs: Date.now() - started },
        'snapshot: stored',
      );
      if (kind === 'suspend') {
        // libvirt takes 1–2 s to stop one QEMU (seen here: the bare process exits in 15 ms), and
        // calls on one connection run in turn: stop them all at once on the capture's connections;
        // destroyHeld then finds them off and only undefines and cleans up.
        await Promise.allSettled(vms.map((v) => v.conn?.destroyDomain(v.domain)));
        await this.o.clusters.destroyHeld(jobId, `suspended: snapshot ${snapshotId}`);
        log.info({}, 'snapshot: suspended cluster removed from the nodes');
      }
      return this.toSnapshot(committed);
    } catch (err) {
      if (committed) {
        // Stored, but the suspended cluster could not be removed: the VMs stay paused; a retry
        // (same snapshotId) finds the manifest and finishes the removal.
        throw new SnapshotFailedError(
          captureCode(err),
          snapshotId,
          jobId,
          `snapshot ${snapshotId} of job ${jobId} is stored, but removing the suspended cluster failed: ${errorMessage(err)}; retry to finish`,
          err,
        );
      }
      if (writer) await writer.abort().catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'snapshot failed and aborting its store writer failed too'));
      const left = await this.undo(vms, log);
      const vmsNote = left.length === 0 ? 'the VMs run again' : `VMs NOT running again: ${left.join('; ')}`;
      log.error({ err: errorMessage(err), left }, 'snapshot failed; undone');
      throw new SnapshotFailedError(
        captureCode(err),
        snapshotId,
        jobId,
        `snapshot ${snapshotId} of job ${jobId} on site ${this.o.clusters.site} failed: ${errorMessage(err)}; no snapshot was stored, ${vmsNote}`,
        err,
      );
    } finally {
      await Promise.allSettled(vms.map((v) => v.conn?.close()));
      await rm(work, { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'could not remove work files'));
    }
  }

  /** The idempotent answer to a retried TakeSnapshot. */
  private async alreadyTaken(m: SnapshotManifest, jobId: string, kind: SnapshotKind, log: Logger): Promise<Snapshot> {
    if (m.job !== jobId) throw new AlreadyExistsError(`snapshot id ${m.id} is already used by job ${m.job}`);
    if (m.meta.kind !== kind) throw new AlreadyExistsError(`snapshot ${m.id} of job ${jobId} exists as a ${String(m.meta.kind)}, not a ${kind}`);
    if (kind === 'suspend') {
      // Cut short after its commit: the cluster may still be there, paused or saved. Only such
      // leftovers are removed: running VMs mean the job was resumed since, and stay.
      const status = await this.o.clusters.clusterStatus(jobId);
      if (status && status.vms.length > 0 && status.vms.every((v) => v.state !== 'RUNNING')) {
        await this.o.clusters.destroyHeld(jobId, `suspended: snapshot ${m.id}`);
        log.info({}, 'snapshot: finished removing a suspended cluster');
      }
    }
    log.info({}, 'snapshot already in the store; returned as is');
    return this.toSnapshot(m);
  }

  /** Reads what the capture needs before the pause: the domain's XML, addresses, disks, console. */
  private async prepare(vm: Capture): Promise<void> {
    const conn = vm.conn as LibvirtConnection;
    vm.liveXml = await conn.domainXml(vm.domain, { secure: true });
    const meta = parseVmMetadata(vm.liveXml);
    vm.mac = (meta?.mac || macOf(findInterfaces(vm.liveXml)[0]?.text ?? '') || '').toLowerCase();
    vm.ip = meta?.ip ?? '';
    vm.console = consoleSourceOf(vm.liveXml) ?? vm.console;
    vm.disks = fileDisks(vm.liveXml)
      .filter((d) => !d.readonly && d.format === 'qcow2' && d.source !== '')
      .map((d) => ({ target: d.target, source: d.source, file: diskFile(vm.name, d.target) }));
    // The persistent definition, to define the domain again at a restore.
    await writeFile(vm.xmlFile, await conn.domainXml(vm.domain, { inactive: true, secure: true }));
  }

  /** Memory and disks of one paused VM. */
  private async captureVm(vm: Capture, log: Logger): Promise<void> {
    const conn = vm.conn as LibvirtConnection;
    const work = join(vm.memFile, '..');
    const t0 = Date.now();
    if (vm.method === 'external') {
      // The domain stays paused: QEMU keeps running (paused) and writes its memory to the file.
      const targets = fileDisks(vm.liveXml).map((d) => d.target);
      await conn.createSnapshot(vm.domain, memorySnapshotXml(vm.memFile, targets), { noMetadata: true });
    } else {
      await conn.saveDomain(vm.domain, vm.memFile);
      vm.phase = 'saved';
    }
    vm.captureMs = Date.now() - t0;
    // Disks: QEMU flushed them when it paused (and closed them if saved): the files are consistent.
    for (const d of vm.disks) await cloneFile(d.source, join(work, `${vm.name}.${d.target}.qcow2`));
    // Only the size: the console's bytes up to here are read into the store later (it only grows).
    vm.consoleBytes = await stat(vm.console).then(
      (s) => s.size,
      () => -1,
    );
    vm.capturedAt = Date.now();
    log.debug({ vm: vm.name, method: vm.method, captureMs: vm.captureMs, disks: vm.disks.length }, 'snapshot: VM captured');
  }

  /** Makes a captured VM run again (checkpoint): resume the paused QEMU, or restore the save. */
  private async runAgain(vm: Capture): Promise<void> {
    const conn = vm.conn as LibvirtConnection;
    if (vm.phase === 'saved') {
      // The image was saved from a paused domain: ask for running (the test driver takes no flag
      // and always restores running).
      await conn.restoreDomain(vm.memFile, isTestUri(vm.uri) ? {} : { paused: false });
    } else {
      await conn.resumeDomain(vm.domain);
    }
    vm.runningAt = Date.now();
    vm.phase = 'resumed';
  }

  /** After a failure: every VM this capture paused or saved runs again. Returns what could not. */
  private async undo(vms: Capture[], log: Logger): Promise<string[]> {
    const left: string[] = [];
    await Promise.all(
      vms.map(async (vm) => {
        if (vm.phase === 'running' || vm.phase === 'resumed') return;
        try {
          const conn = vm.conn ?? (await this.connect(vm.uri));
          try {
            const r = await makeRunning(conn, vm.domain, vm.memFile, vm.uri);
            log.warn({ vm: vm.name, did: r }, 'snapshot failed: VM running again');
          } finally {
            if (!vm.conn) await conn.close().catch((e: unknown) => log.debug({ vm: vm.name, err: errorMessage(e) }, 'closing a recovery connection failed'));
          }
        } catch (err) {
          left.push(`${vm.name}: ${errorMessage(err)}`);
          log.error({ vm: vm.name, err: errorMessage(err) }, 'snapshot failed and the VM could not be made to run again');
        }
      }),
    );
    return left;
  }
}
