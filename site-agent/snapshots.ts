// Coordinated snapshots of whole clusters into the site's store, restores from them, pruning, and
// the start-up recovery of a snapshot cut short by a crash (DESIGN.md "Snapshots"; the choices and
// their measurements are in docs/design-notes.md, "Snapshots: how a cluster is captured").
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
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  AlreadyExistsError,
  BrineError,
  InvalidArgumentError,
  NotAllowedError,
  NotFoundError,
  type ErrorCode,
} from '../src/shared/errors.js';
import { silentLogger, type Logger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus, Snapshot } from '../src/shared/proto.js';
import { validateClusterSpec, type ClusterManager, type NodeCapacity } from './clusters.js';
import type { ImageConfig } from './config.js';
import { BRINE_XMLNS, domainName, metadataElement, networkName, parseVmMetadata, xmlEscape } from './domain-xml.js';
import { buildNetworkXml, parseNetworkMetadata } from './network-xml.js';
import { openLibvirt } from './libvirt/connection.js';
import { isNoDomain } from './libvirt/errors.js';
import { findInterfaces, macOf, restoreWithNewNics, rewriteInterfaces } from './libvirt/nic-swap.js';
import type { LibvirtConnection } from './libvirt/types.js';
import { CorruptChunkError, MissingChunkError, type SnapshotStore, type SnapshotWriter } from './snapshot-store/index.js';
import { SNAPSHOT_ID_RE } from './snapshot-store/manifest.js';
import type { SnapshotManifest } from './snapshot-store/manifest.js';
import { guardRestoredXml, type OwnedByVm } from './domain-guard.js';
import { SEED_TARGET } from './seed.js';

export type SnapshotKind = 'checkpoint' | 'suspend';
/**
 * `external`: virDomainSnapshotCreateXML with an external memory file and no metadata, on the
 * paused domain, then resume (QEMU). `save`: virDomainSave, then virDomainRestore (the test driver,
 * which has no external memory snapshots). See docs/design-notes.md for the measured difference.
 */
export type CaptureMethod = 'external' | 'save';

/** What this module needs of the cluster manager. */
export type SnapshotClusters = Pick<
  ClusterManager,
  'site' | 'withJobLock' | 'clusterStatus' | 'destroyHeld' | 'trackHeld' | 'consolePath' | 'overlayPath' | 'nodeUri' | 'writeSeed'
>;

/** What this module needs of the store (site-agent/snapshot-store/). */
export type SnapshotStoreApi = Pick<SnapshotStore, 'beginSnapshot' | 'manifest' | 'restoreFile' | 'retain' | 'collectGarbage' | 'collectGarbageSoon'>;

export interface ClusterSnapshotsOptions {
  clusters: SnapshotClusters;
  store: SnapshotStoreApi;
  /** the site's data dir: captures and restores stage their files in `<dataDir>/work/` */
  dataDir: string;
  /** for validating restore specs */
  site: { nodes: readonly NodeCapacity[]; images: Readonly<Record<string, ImageConfig>> };
  /** opens one libvirt connection (default: the real binding); one per VM per operation */
  connect?: (uri: string) => Promise<LibvirtConnection>;
  /** default `auto`: `external` on QEMU, `save` on the test driver */
  method?: 'auto' | CaptureMethod;
  logger?: Logger;
}

export interface TakeSnapshotInput {
  jobId: string;
  snapshotId: string;
  kind: string;
  operationId?: string;
}

/** A snapshot that cannot be restored: a chunk of one of its files is corrupt or missing. */
export class SnapshotDamagedError extends BrineError {
  readonly snapshotId: string;
  readonly file: string;
  readonly chunk: string;
  readonly problem: 'corrupt' | 'missing';
  constructor(snapshotId: string, cause: CorruptChunkError | MissingChunkError) {
    const problem = cause instanceof CorruptChunkError ? 'corrupt' : 'missing';
    // Retrying cannot help: the coordinator marks this site's copy damaged (an older snapshot or
    // another site's copy can still serve). Nothing was started.
    super('DATA_LOSS', `snapshot ${snapshotId} is damaged: ${cause.message}; nothing was restored`, { cause });
    this.snapshotId = snapshotId;
    this.file = cause.file;
    this.chunk = cause.chunk;
    this.problem = problem;
  }
}

/** A capture that failed: no snapshot was stored and the VMs run again (the message says if not). */
export class SnapshotFailedError extends BrineError {
  readonly snapshotId: string;
  readonly job: string;
  constructor(code: ErrorCode, snapshotId: string, job: string, message: string, cause: unknown) {
    super(code, message, { cause });
    this.snapshotId = snapshotId;
    this.job = job;
  }
}

/** What the start-up recovery found and did for one interrupted capture. */
export interface RecoveryReport {
  snapshotId: string;
  job: string;
  kind: string;
  /** the manifest was committed before the crash (the snapshot exists) */
  committed: boolean;
  /** VMs found paused and resumed */
  resumed: string[];
  /** VMs found saved (stopped) and restored from their save image */
  restored: string[];
  /** a committed suspend whose cluster was still there: removed, as the suspend had asked */
  removedCluster: boolean;
  /** VMs that could not be made to run again, and why */
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// What a capture records about each VM (in the manifest's `meta.vms`, as JSON: the store's meta
// values are scalars), so a restore knows what to rewrite when the cluster comes back elsewhere.

const diskSchema = z.object({ target: z.string(), source: z.string(), file: z.string() });
const capturedVmSchema = z.object({
  name: z.string(),
  node: z.string(),
  domain: z.string(),
  mac: z.string(),
  ip: z.string(),
  network: z.string(),
  console: z.string(),
  /** `<vm>/console.log` is in the snapshot */
  hasConsole: z.boolean(),
  disks: z.array(diskSchema),
  /** pause → paused, ms after the cluster's first pause */
  pausedAtMs: z.number(),
  /** pause → running again (checkpoint) or → captured (suspend), ms */
  downMs: z.number(),
  /** the memory dump (or save) alone, ms */
  captureMs: z.number(),
});
type CapturedVm = z.infer<typeof capturedVmSchema>;
type CapturedDisk = z.infer<typeof diskSchema>;

const intentSchema = z.object({
  snapshotId: z.string(),
  job: z.string(),
  kind: z.enum(['checkpoint', 'suspend']),
  vms: z.array(z.object({ name: z.string(), domain: z.string(), uri: z.string(), memFile: z.string() })),
});
type Intent = z.infer<typeof intentSchema>;

const memoryFile = (vm: string): string => `${vm}/memory`;
const xmlFile = (vm: string): string => `${vm}/domain.xml`;
const consoleFile = (vm: string): string => `${vm}/console.log`;
const diskFile = (vm: string, target: string): string => `${vm}/disk-${target}.qcow2`;

const isTestUri = (uri: string): boolean => uri.startsWith('test:');

/** The file-backed disks of a domain XML (target, source, format), outside <metadata>. */
export function fileDisks(xml: string): Array<{ target: string; source: string; format: string; readonly: boolean }> {
  const body = xml.replace(/<metadata>[\s\S]*?<\/metadata>/, '');
  const out: Array<{ target: string; source: string; format: string; readonly: boolean }> = [];
  for (const m of body.matchAll(/<disk\b([^>]*)>([\s\S]*?)<\/disk>/g)) {
    const attrs = m[1] ?? '';
    const inner = m[2] ?? '';
    const target = /<target\b[^>]*\bdev=['"]([^'"]+)['"]/.exec(inner)?.[1];
    const source = /<source\b[^>]*\bfile=['"]([^'"]+)['"]/.exec(inner)?.[1];
    if (!target) continue;
    out.push({
      target,
      source: source ?? '',
      format: /<driver\b[^>]*\btype=['"]([^'"]+)['"]/.exec(inner)?.[1] ?? '',
      readonly: /<readonly\s*\/>|<shareable\s*\/>/.test(inner) || !/\btype=['"]file['"]/.test(attrs) || !/\bdevice=['"]disk['"]/.test(attrs),
    });
  }
  return out;
}

/** The `<domainsnapshot>` of a memory-only external snapshot: every disk left out. */
function memorySnapshotXml(file: string, disks: readonly string[]): string {
  const d = disks.map((t) => `<disk name='${xmlEscape(t)}' snapshot='no'/>`).join('');
  return `<domainsnapshot><memory snapshot='external' file='${xmlEscape(file)}'/><disks>${d}</disks></domainsnapshot>`;
}

/** The source path of the domain's serial console file, if any. */
function consoleSourceOf(xml: string): string | undefined {
  return /<serial\b[^>]*type=['"]file['"][^>]*>[\s\S]*?<source\b[^>]*\bpath=['"]([^'"]+)['"]/.exec(xml)?.[1];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * The code a failed capture is reported with: UNAVAILABLE (a node's libvirtd is unreachable: retry
 * later), RESOURCE_EXHAUSTED (disk full), INTERNAL otherwise. Never FAILED_PRECONDITION, which
 * TakeSnapshot keeps for "this cluster cannot be snapshotted now".
 */
function captureCode(err: unknown): ErrorCode {
  if (err instanceof BrineError && (err.code === 'UNAVAILABLE' || err.code === 'RESOURCE_EXHAUSTED')) return err.code;
  const e = errno(err) ?? errno(err instanceof Error ? err.cause : undefined);
  if (e === 'ENOSPC' || e === 'EDQUOT') return 'RESOURCE_EXHAUSTED';
  // QEMU writing the memory image into a full work dir: libvirt reports the errno as text only
  return err instanceof Error && /No space left on device|Disk quota exceeded/i.test(err.message) ? 'RESOURCE_EXHAUSTED' : 'INTERNAL';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Copies a file, sharing its blocks (reflink) where the file system can: instant on XFS/btrfs. */
async function cloneFile(from: string, to: string): Promise<void> {
  await copyFile(from, to, fsConstants.COPYFILE_FICLONE);
}

// ---------------------------------------------------------------------------------------------

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

export class ClusterSnapshots {
  private readonly o: ClusterSnapshotsOptions;
  private readonly log: Logger;
  private readonly connect: (uri: string) => Promise<LibvirtConnection>;

  constructor(options: ClusterSnapshotsOptions) {
    this.o = options;
    this.log = (options.logger ?? silentLogger).child({ site: options.clusters.site });
    this.connect = options.connect ?? openLibvirt;
  }

  get workDir(): string {
    return join(this.o.dataDir, 'work');
  }

  private methodFor(uri: string): CaptureMethod {
    const m = this.o.method ?? 'auto';
    if (m !== 'auto') return m;
    return isTestUri(uri) ? 'save' : 'external';
  }

  private async manifestOrNull(id: string): Promise<SnapshotManifest | null> {
    try {
      return await this.o.store.manifest(id);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // TakeSnapshot

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
          `snapshot ${snapshotId} of job ${jobId} is stored, but removing the suspended cluster failed: ${messageOf(err)}; retry to finish`,
          err,
        );
      }
      if (writer) await writer.abort().catch(() => undefined);
      const left = await this.undo(vms, log);
      const vmsNote = left.length === 0 ? 'the VMs run again' : `VMs NOT running again: ${left.join('; ')}`;
      log.error({ err: messageOf(err), left }, 'snapshot failed; undone');
      throw new SnapshotFailedError(
        captureCode(err),
        snapshotId,
        jobId,
        `snapshot ${snapshotId} of job ${jobId} on site ${this.o.clusters.site} failed: ${messageOf(err)}; no snapshot was stored, ${vmsNote}`,
        err,
      );
    } finally {
      await Promise.allSettled(vms.map((v) => v.conn?.close()));
      await rm(work, { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: messageOf(e) }, 'could not remove work files'));
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
            if (!vm.conn) await conn.close().catch(() => undefined);
          }
        } catch (err) {
          left.push(`${vm.name}: ${messageOf(err)}`);
          log.error({ vm: vm.name, err: messageOf(err) }, 'snapshot failed and the VM could not be made to run again');
        }
      }),
    );
    return left;
  }

  /** The `snapshot` object of the API (DESIGN.md) for a manifest of this store. */
  toSnapshot(m: SnapshotManifest): Snapshot {
    const vms = new Map<string, number>();
    for (const f of m.files) if (f.vm !== undefined) vms.set(f.vm, (vms.get(f.vm) ?? 0) + f.size);
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    return {
      id: m.id,
      job: m.job,
      createdAt: m.createdAt,
      sites: [this.o.clusters.site],
      vms: [...vms].map(([name, bytes]) => ({ name, bytes })),
      totalBytes: m.totalBytes,
      newBytes: m.newBytes,
      pauseSkewMs: num(m.meta.pauseSkewMs),
      downtimeMs: num(m.meta.downtimeMs),
      damaged: false,
      damagedSites: [],
      kind: typeof m.meta.kind === 'string' ? m.meta.kind : '',
    };
  }

  // -------------------------------------------------------------------------------------------
  // RestoreCluster

  /**
   * Recreates the cluster of `spec` from a snapshot in this store: network from the spec, every
   * VM's files restored (each chunk verified) before anything is created, then each domain defined
   * again and restored from its memory image. VMs already running for the job are left alone.
   */
  async restore(spec: ClusterSpec, snapshotId: string): Promise<ClusterStatus> {
    validateClusterSpec(spec, this.o.site);
    if (!SNAPSHOT_ID_RE.test(snapshotId)) throw new InvalidArgumentError('snapshotId', `"${snapshotId}" is not a snapshot id`);
    const m = await this.o.store.manifest(snapshotId); // NOT_FOUND if absent
    if (m.job !== spec.jobId) throw new InvalidArgumentError('snapshotId', `snapshot ${snapshotId} is of job ${m.job}, not ${spec.jobId}`);
    const captured = parseCaptured(m);
    const inSnapshot = new Map(captured.map((c) => [c.name, c]));
    spec.vms.forEach((vm, i) => {
      if (!inSnapshot.has(vm.name)) {
        throw new InvalidArgumentError(`cluster.vms[${i}].name`, `VM ${vm.name} is not in snapshot ${snapshotId} (it has ${[...inSnapshot.keys()].join(', ')})`);
      }
    });
    if (spec.vms.length !== captured.length) {
      const missing = captured.filter((c) => !spec.vms.some((v) => v.name === c.name)).map((c) => c.name);
      throw new InvalidArgumentError('cluster.vms', `snapshot ${snapshotId} also has VM ${missing.join(', ')}: a cluster is restored whole`);
    }
    return this.o.clusters.withJobLock(spec.jobId, () => this.restoreHeld(spec, m, inSnapshot), { asDeploy: true });
  }

  /** The spec's image as this site's config defines it (validateClusterSpec checked the name). */
  private imageOf(name: string): ImageConfig {
    const image = Object.hasOwn(this.o.site.images, name) ? this.o.site.images[name] : undefined;
    if (!image) throw new InvalidArgumentError('cluster.image', `unknown image ${name.slice(0, 100)} at this site`);
    return image;
  }

  private async restoreHeld(spec: ClusterSpec, m: SnapshotManifest, captured: Map<string, CapturedVm>): Promise<ClusterStatus> {
    const site = this.o.clusters.site;
    const log = this.log.child({ job: spec.jobId, snapshot: m.id });
    const status = await this.o.clusters.clusterStatus(spec.jobId);
    const present = new Map((status?.vms ?? []).filter((v) => v.state !== 'MISSING').map((v) => [v.name, v]));
    const toRestore = spec.vms.filter((v) => present.get(v.name)?.state !== 'RUNNING');
    const netName = networkName(site, spec.jobId);
    const started = Date.now();
    log.info({ vms: spec.vms.length, toRestore: toRestore.map((v) => v.name) }, 'restore: restoring cluster from snapshot');

    const work = join(this.workDir, `restore-${m.id}`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const created = { networks: [] as LibvirtConnection[], domains: [] as Array<{ conn: LibvirtConnection; name: string }>, files: [] as string[] };
    const conns: LibvirtConnection[] = [];
    try {
      // 1. Every file out of the store, verified, before anything is created.
      const staged = new Map<string, { mem: string; xml: string; console: string | null; disks: Array<CapturedDisk & { staged: string }> }>();
      const fetchStart = Date.now();
      try {
        // allSettled: on a damaged chunk, wait for the other VMs' reads to stop before the work
        // dir is removed, so no read still in flight recreates it afterwards.
        const settled = await Promise.allSettled(
          toRestore.map(async (vm) => {
            const c = captured.get(vm.name) as CapturedVm;
            const s = {
              mem: join(work, `${vm.name}.mem`),
              xml: join(work, `${vm.name}.xml`),
              console: c.hasConsole ? join(work, `${vm.name}.console`) : null,
              disks: c.disks.map((d) => ({ ...d, staged: join(work, `${vm.name}.${d.target}.qcow2`) })),
            };
            staged.set(vm.name, s);
            await this.o.store.restoreFile(m.id, memoryFile(vm.name), s.mem);
            await this.o.store.restoreFile(m.id, xmlFile(vm.name), s.xml);
            if (s.console) await this.o.store.restoreFile(m.id, consoleFile(vm.name), s.console);
            for (const d of s.disks) await this.o.store.restoreFile(m.id, d.file, d.staged);
          }),
        );
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      } catch (err) {
        if (err instanceof CorruptChunkError || err instanceof MissingChunkError) throw new SnapshotDamagedError(m.id, err);
        throw err;
      }
      const fetchMs = Date.now() - fetchStart;

      // 2. The network, from the spec, on every connection hosting one of the VMs.
      const netXml = buildNetworkXml({
        site,
        jobId: spec.jobId,
        subnet: spec.subnet,
        gateway: spec.gateway,
        hosts: spec.vms.map((vm) => ({ name: vm.name, mac: vm.mac, ip: vm.ip })),
      });
      for (const uri of new Set(spec.vms.map((vm) => this.o.clusters.nodeUri(vm.node)))) {
        const conn = await this.connect(uri);
        conns.push(conn);
        const net = await conn.lookupNetwork(netName);
        if (!net) {
          await conn.defineNetwork(netXml);
          created.networks.push(conn);
          await conn.startNetwork(netName);
          log.info({ network: netName, uri }, 'restore: network created');
        } else {
          const meta = parseNetworkMetadata(await conn.networkXml(netName));
          if (!meta || meta.site !== site || meta.job !== spec.jobId) {
            throw new AlreadyExistsError(`libvirt network ${netName} on ${uri} exists and is not this cluster's`);
          }
          if (!net.active) await conn.startNetwork(netName);
        }
      }

      // 3. Each VM, in parallel, each on its own connection.
      const timings: Record<string, number> = {};
      await Promise.all(
        toRestore.map(async (vm) => {
          const c = captured.get(vm.name) as CapturedVm;
          const s = staged.get(vm.name) as NonNullable<ReturnType<typeof staged.get>>;
          const vlog = log.child({ vm: vm.name });
          const uri = this.o.clusters.nodeUri(vm.node);
          const conn = await this.connect(uri);
          conns.push(conn);
          const domain = domainName(spec.jobId, vm.name);
          const consolePath = this.o.clusters.consolePath(domain);
          const target: RetargetTo = {
            domain,
            metadata: metadataElement('vm', { site, job: spec.jobId, vm: vm.name, node: vm.node, mac: vm.mac.toLowerCase(), ip: vm.ip, image: spec.image }),
            fromConsole: c.console,
            toConsole: consolePath,
            disks: c.disks.map((d) => ({ from: d.source, to: this.o.clusters.overlayPath(domain) })),
          };
          const old = present.get(vm.name);
          // Same name but not this site's VM (its metadata said otherwise; names carry no site, so
          // e.g. the job still at its origin on a shared libvirtd): never redefine or replace it.
          if (!old && (await conn.lookupDomain(domain))) {
            throw new AlreadyExistsError(`libvirt domain ${domain} on ${uri} exists and is not VM ${vm.name} of job ${spec.jobId} at site ${site}`);
          }
          if (old) {
            // There but not running (paused or stopped, e.g. a suspend cut short): replaced by the
            // snapshot's state, which is what the coordinator asked for.
            vlog.warn({ state: old.state, domain: old.domain }, 'restore: replacing a VM that is not running');
            await conn.destroyDomain(old.domain);
            await conn.undefineDomain(old.domain);
          }
          // Files in place: console (QEMU appends to it), disks.
          if (s.console) {
            await mkdir(join(consolePath, '..'), { recursive: true });
            await rename(s.console, consolePath);
            created.files.push(consolePath);
          }
          for (const [i, d] of s.disks.entries()) {
            const to = target.disks[i]?.to ?? d.source;
            await mkdir(join(to, '..'), { recursive: true });
            await rename(d.staged, to);
            created.files.push(to);
          }
          // Host-side parts of the saved image (name, metadata, console, disks) rewritten where
          // they differ from the snapshot's (never the MAC: QEMU refuses it, see nic-swap.ts).
          const imageXml = await conn.saveImageXml(s.mem);
          // The seed, built here from the spec (never the origin's file); same device, new path.
          const seed = await this.o.clusters.writeSeed(spec, vm.name);
          created.files.push(seed);
          target.seed = { from: fileDisks(imageXml).find((d) => d.target === SEED_TARGET)?.source ?? '', to: seed };
          // never trusted as received (domain-guard.ts): host references from this site's config
          const owned: OwnedByVm = {
            metadata: target.metadata,
            files: [consolePath, ...target.disks.map((d) => d.to), seed],
            image: this.imageOf(spec.image),
            networks: [netName, c.network],
          };
          const newImageXml = guardRestoredXml(retarget(imageXml, target), owned, `VM ${vm.name} of snapshot ${m.id}`);
          if (newImageXml !== imageXml) await conn.saveImageDefineXml(s.mem, newImageXml);
          const macChanged = c.mac !== '' && c.mac !== vm.mac.toLowerCase();
          const nics = [{ oldMac: c.mac, newMac: vm.mac.toLowerCase(), network: netName }];
          // The persistent definition first: the restore then runs the domain under it, so it stays
          // defined (and its next cold boot uses the new MAC and network).
          let config = retarget(await readFile(s.xml, 'utf8'), target);
          if (macChanged || c.network !== netName) config = rewriteInterfaces(config, nics, { macs: true, requireAll: false });
          config = guardRestoredXml(config, { ...owned, networks: [netName] }, `VM ${vm.name} of snapshot ${m.id}`);
          await conn.defineDomain(config);
          created.domains.push({ conn, name: domain });
          const t0 = Date.now();
          if (macChanged || c.network !== netName) {
            await restoreWithNewNics(conn, s.mem, nics);
          } else {
            await conn.restoreDomain(s.mem, isTestUri(uri) ? {} : { paused: false });
          }
          timings[vm.name] = Date.now() - t0;
          vlog.info({ domain, node: vm.node, mac: vm.mac, ip: vm.ip, macChanged, restoreMs: timings[vm.name] }, 'restore: VM running');
        }),
      );
      const statusAfter = await this.o.clusters.trackHeld(spec.jobId);
      log.info({ fetchMs, restoreMs: timings, totalMs: Date.now() - started }, 'restore: cluster restored');
      return statusAfter;
    } catch (err) {
      await this.rollbackRestore(spec.jobId, created, log);
      if (err instanceof BrineError) throw err;
      throw new BrineError(captureCode(err), `restoring job ${spec.jobId} from snapshot ${m.id} failed: ${messageOf(err)}; what this attempt created was removed`, {
        cause: err,
      });
    } finally {
      await Promise.allSettled(conns.map((c) => c.close()));
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async rollbackRestore(
    jobId: string,
    created: { networks: LibvirtConnection[]; domains: Array<{ conn: LibvirtConnection; name: string }>; files: string[] },
    log: Logger,
  ): Promise<void> {
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        log.error({ err: messageOf(err) }, `restore rollback: could not remove ${what}`);
      }
    };
    for (const { conn, name } of created.domains.reverse()) {
      await attempt(`domain ${name}`, async () => {
        await conn.destroyDomain(name);
        await conn.undefineDomain(name);
      });
    }
    for (const f of created.files) await attempt(f, () => rm(f, { force: true }));
    const netName = networkName(this.o.clusters.site, jobId);
    for (const conn of created.networks) {
      await attempt(`network ${netName}`, async () => {
        await conn.destroyNetwork(netName);
        await conn.undefineNetwork(netName);
      });
    }
    if (created.domains.length + created.networks.length + created.files.length > 0) {
      log.warn({ domains: created.domains.length, networks: created.networks.length }, 'restore failed; rolled back');
    }
  }

  // -------------------------------------------------------------------------------------------
  // PruneSnapshots

  /** Keeps the job's last `keep` snapshots, deletes the others, then collects unused chunks. */
  async prune(jobId: string, keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError('keep', `a whole number ≥ 0, got ${keep}`);
    // Under the job's lock: never racing a capture or a restore of the same job.
    const deleted = await this.o.clusters.withJobLock(jobId, () => this.o.store.retain(jobId, keep));
    const log = this.log.child({ job: jobId });
    log.info({ keep, deleted }, 'snapshots pruned');
    // The chunk scan grows with the store: it runs in the background, not on the prune's path.
    void this.o.store.collectGarbageSoon().then(
      (gc) => log.info({ removedChunks: gc.removedChunks, removedBytes: gc.removedBytes }, 'chunks collected after prune'),
      (err: unknown) => log.error({ err }, 'chunk collection after prune failed; the next prune retries'),
    );
    return deleted;
  }

  // -------------------------------------------------------------------------------------------
  // Start-up recovery

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
      } catch {
        // a restore's staging, or a capture killed before it paused anything: files only
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
    report.committed = (await this.manifestOrNull(intent.snapshotId).catch(() => null)) !== null;
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
          report.problems.push(`${vm.name}: ${messageOf(err)}`);
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
async function makeRunning(conn: LibvirtConnection, domain: string, memFile: string, uri: string): Promise<'resumed' | 'restored' | 'running'> {
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
      if (await exists(memFile)) {
        await conn.restoreDomain(memFile, isTestUri(uri) ? {} : { paused: false });
        return 'restored';
      }
      throw new NotAllowedError(`domain ${domain} is ${info?.state ?? 'gone'} and no save image is left`);
    } catch (err) {
      if (isNoDomain(err) && !(await exists(memFile))) throw err;
      last = err;
    }
  }
  throw last;
}

function parseCaptured(m: SnapshotManifest): CapturedVm[] {
  const raw = m.meta.vms;
  try {
    if (typeof raw !== 'string') throw new Error('no VM list');
    return z.array(capturedVmSchema).parse(JSON.parse(raw));
  } catch (err) {
    throw new NotAllowedError(`snapshot ${m.id} was not taken by a brine agent (its VM list is unreadable: ${messageOf(err)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Host-side rewrites of a snapshot's domain XML for where the VM runs now. On the same site with
// the same spec, nothing changes (and the XML is returned as it was).

interface RetargetTo {
  domain: string;
  /** the brine `<…:vm …/>` metadata element for the new place */
  metadata: string;
  fromConsole: string;
  toConsole: string;
  disks: Array<{ from: string; to: string }>;
  /** the cloud-init seed image (./seed.ts): `from` '' when the snapshot has none */
  seed?: { from: string; to: string } | undefined;
}

function retarget(xml: string, t: RetargetTo): string {
  let out = xml.replace(/(<domain\b[^>]*>\s*<name>)([^<]*)(<\/name>)/, (all, a: string, name: string, b: string) =>
    name === xmlEscape(t.domain) ? all : `${a}${xmlEscape(t.domain)}${b}`,
  );
  // brine's metadata element, whatever prefix libvirt kept for its namespace; only if it differs.
  const nsRe = new RegExp(`<([A-Za-z_][\\w.-]*):vm\\b[^>]*xmlns:\\1=["']${BRINE_XMLNS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["'][^>]*/>`);
  const current = nsRe.exec(out)?.[0];
  if (current) {
    const now = parseVmMetadata(`<domain><metadata>${current}</metadata></domain>`);
    const want = parseVmMetadata(`<domain><metadata>${t.metadata}</metadata></domain>`);
    if (JSON.stringify(now) !== JSON.stringify(want)) out = out.replace(current, t.metadata);
  }
  const swapPath = (s: string, from: string, to: string): string =>
    from === to || from === '' ? s : s.split(`'${xmlEscape(from)}'`).join(`'${xmlEscape(to)}'`).split(`"${xmlEscape(from)}"`).join(`"${xmlEscape(to)}"`);
  out = swapPath(out, t.fromConsole, t.toConsole);
  for (const d of t.disks) out = swapPath(out, d.from, d.to);
  if (t.seed) out = swapPath(out, t.seed.from, t.seed.to);
  return out;
}
