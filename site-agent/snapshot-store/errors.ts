// The store's typed errors. A damaged chunk is never papered over: every read names the snapshot,
// the file and the chunk, so the caller can mark the snapshot damaged (and fetch a replica).
import { BrineError } from '../../src/shared/errors.js';

/** Where a bad chunk was met; `snapshotId`/`file` are empty when a chunk is read on its own (transfer). */
export interface ChunkLocation {
  snapshotId: string;
  file: string;
  chunk: string;
  /** byte offset of the chunk in the file, -1 when not read as part of a file */
  offset: number;
}

function where(l: ChunkLocation): string {
  const inFile = l.snapshotId ? ` of ${l.file} in snapshot ${l.snapshotId}${l.offset >= 0 ? ` at offset ${l.offset}` : ''}` : '';
  return `chunk ${l.chunk}${inFile}`;
}

abstract class ChunkError extends BrineError implements ChunkLocation {
  readonly snapshotId: string;
  readonly file: string;
  readonly chunk: string;
  readonly offset: number;
  constructor(l: ChunkLocation, message: string, cause?: unknown) {
    // the data is damaged: retrying the same read will not help
    super('DATA_LOSS', message, { cause });
    this.snapshotId = l.snapshotId;
    this.file = l.file;
    this.chunk = l.chunk;
    this.offset = l.offset;
  }
}

/** The chunk is stored but its content is not what its name (hash) says, or cannot be decoded. */
export class CorruptChunkError extends ChunkError {
  constructor(l: ChunkLocation, detail: string, cause?: unknown) {
    super(l, `${where(l)} is corrupt: ${detail}`, cause);
  }
}

/** The chunk is not in the store (not in the index, or its pack is gone). */
export class MissingChunkError extends ChunkError {
  constructor(l: ChunkLocation) {
    super(l, `${where(l)} is missing from the store`);
  }
}

/** The store's file system is full (ENOSPC, EDQUOT): the snapshot was abandoned, nothing else touched. */
export class StoreFullError extends BrineError {
  constructor(what: string, cause: unknown) {
    super('RESOURCE_EXHAUSTED', `snapshot store full while ${what}; the snapshot was abandoned, earlier snapshots are intact`, { cause });
  }
}

/** Any other I/O failure while writing: the snapshot was abandoned, nothing else touched. */
export class StoreWriteError extends BrineError {
  constructor(what: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('INTERNAL', `snapshot store write failed while ${what}: ${detail}; the snapshot was abandoned`, { cause });
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** A write failure as the typed error callers see. */
export function writeError(what: string, err: unknown): BrineError {
  if (err instanceof BrineError) return err;
  const code = errnoCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT' ? new StoreFullError(what, err) : new StoreWriteError(what, err);
}

/** A manifest file that cannot be read back (bad JSON or shape): the store refuses to guess. */
export class CorruptManifestError extends BrineError {
  readonly snapshotId: string;
  constructor(snapshotId: string, detail: string, cause?: unknown) {
    super('INTERNAL', `manifest of snapshot ${snapshotId} is unreadable: ${detail}`, { cause });
    this.snapshotId = snapshotId;
  }
}

/** A manifest cannot be imported because the store lacks some of its chunks (`missing`: fetch these). */
export class IncompleteSnapshotError extends BrineError {
  readonly snapshotId: string;
  readonly missing: string[];
  constructor(snapshotId: string, missing: string[]) {
    super('FAILED_PRECONDITION', `cannot import snapshot ${snapshotId}: ${missing.length} of its chunks are not in the store (first: ${missing[0] ?? '-'})`);
    this.snapshotId = snapshotId;
    this.missing = missing;
  }
}
