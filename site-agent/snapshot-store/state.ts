// What all SnapshotStore handles on one directory share in this process: the chunk index, the pack
// being written, pins and the collector's state. They must be common to every handle, or two
// handles would not see each other's chunks and pins.
import type { GcResult } from './gc.js';
import { ChunkIndex } from './chunk-index.js';
import type { SnapshotManifest } from './manifest.js';
import { PackReader } from './pack-reader.js';
import type { PackWriter } from './pack-writer.js';

export interface SharedState {
  index: ChunkIndex;
  reader: PackReader;
  /** set by the first handle that opens the directory */
  packs: PackWriter | undefined;
  pins: Map<string, number>;
  /** hash → write in progress: resolves to the stored bytes written */
  writing: Map<string, Promise<number>>;
  /** while a collection runs: hashes committed since it listed the manifests */
  gcLive: Set<string> | null;
  gcRunning: Promise<GcResult> | null;
  /** snapshot ids with an open writer */
  openIds: Set<string>;
  manifests: Map<string, SnapshotManifest>;
  /** the store's directories were set up and its packs loaded once by this process */
  opened: Promise<void> | undefined;
}

const shared = new Map<string, SharedState>();

export function sharedFor(dir: string): SharedState {
  let s = shared.get(dir);
  if (!s) {
    const index = new ChunkIndex();
    s = {
      index,
      reader: new PackReader(index),
      packs: undefined,
      pins: new Map(),
      writing: new Map(),
      gcLive: null,
      gcRunning: null,
      openIds: new Set(),
      manifests: new Map(),
      opened: undefined,
    };
    shared.set(dir, s);
  }
  return s;
}
