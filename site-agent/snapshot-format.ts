// What a brine snapshot holds and records (the manifest's `meta`), its typed errors, and the
// classification of capture failures: shared by capture, restore and recovery.
import { z } from 'zod';
import { BrineError, errorMessage, NotAllowedError, type ErrorCode } from '../src/shared/errors.js';
import { CorruptChunkError, MissingChunkError } from './snapshot-store/index.js';
import type { SnapshotManifest } from './snapshot-store/manifest.js';

export type SnapshotKind = 'checkpoint' | 'suspend';
/**
 * `external`: virDomainSnapshotCreateXML with an external memory file and no metadata, on the
 * paused domain, then resume (QEMU). `save`: virDomainSave, then virDomainRestore (the test driver,
 * which has no external memory snapshots). See docs/design-notes.md for the measured difference.
 */
export type CaptureMethod = 'external' | 'save';


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
export const capturedVmSchema = z.object({
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
export type CapturedVm = z.infer<typeof capturedVmSchema>;
export type CapturedDisk = z.infer<typeof diskSchema>;

export const intentSchema = z.object({
  snapshotId: z.string(),
  job: z.string(),
  kind: z.enum(['checkpoint', 'suspend']),
  vms: z.array(z.object({ name: z.string(), domain: z.string(), uri: z.string(), memFile: z.string() })),
});
export type Intent = z.infer<typeof intentSchema>;

export const memoryFile = (vm: string): string => `${vm}/memory`;
export const xmlFile = (vm: string): string => `${vm}/domain.xml`;
export const consoleFile = (vm: string): string => `${vm}/console.log`;
export const diskFile = (vm: string, target: string): string => `${vm}/disk-${target}.qcow2`;

export const isTestUri = (uri: string): boolean => uri.startsWith('test:');

export function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * The code a failed capture is reported with: UNAVAILABLE (a node's libvirtd is unreachable: retry
 * later), RESOURCE_EXHAUSTED (disk full), INTERNAL otherwise. Never FAILED_PRECONDITION, which
 * TakeSnapshot keeps for "this cluster cannot be snapshotted now".
 */
export function captureCode(err: unknown): ErrorCode {
  if (err instanceof BrineError && (err.code === 'UNAVAILABLE' || err.code === 'RESOURCE_EXHAUSTED')) return err.code;
  const e = errno(err) ?? errno(err instanceof Error ? err.cause : undefined);
  if (e === 'ENOSPC' || e === 'EDQUOT') return 'RESOURCE_EXHAUSTED';
  // QEMU writing the memory image into a full work dir: libvirt reports the errno as text only
  return err instanceof Error && /No space left on device|Disk quota exceeded/i.test(err.message) ? 'RESOURCE_EXHAUSTED' : 'INTERNAL';
}

export function parseCaptured(m: SnapshotManifest): CapturedVm[] {
  const raw = m.meta.vms;
  try {
    if (typeof raw !== 'string') throw new Error('no VM list');
    return z.array(capturedVmSchema).parse(JSON.parse(raw));
  } catch (err) {
    throw new NotAllowedError(`snapshot ${m.id} was not taken by a brine agent (its VM list is unreadable: ${errorMessage(err)})`);
  }
}
