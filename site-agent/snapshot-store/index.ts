// The site's snapshot store: content-addressed, deduplicating, verified on every read.
// See store.ts for the layout, the modules and the guarantees, chunker.ts and codec.ts for the measured choices.
export {
  SnapshotStore,
  SnapshotWriter,
  storeDir,
  sha256Hex,
  DEFAULT_GC_GRACE_MS,
  type StoreOptions,
  type GcOptions,
  type GcResult,
  type VerifyResult,
  type DamagedChunk,
  type SnapshotSummary,
  type AddFileInfo,
  type AddedFile,
  type CommitOptions,
  type FileSource,
} from './store.js';
export type { SnapshotManifest, ManifestFile, ChunkRef, FileKind, MetaValue } from './manifest.js';
export { parseManifest, manifestHashes } from './manifest.js';
export {
  CorruptChunkError,
  MissingChunkError,
  StoreFullError,
  StoreWriteError,
  CorruptManifestError,
  IncompleteSnapshotError,
  type ChunkLocation,
} from './errors.js';
export { Chunker, chunkStream, DEFAULT_CHUNKER, fastCdcParams, fixedParams, type ChunkerParams } from './chunker.js';
export { DEFAULT_COMPRESSION, type Compression, type CodecName } from './codec.js';
export { nodeFs, type StoreFs, type AppendFile } from './fs-port.js';
