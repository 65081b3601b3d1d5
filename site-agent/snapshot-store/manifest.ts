// A snapshot's manifest: what it holds, chunk by chunk. Written last and atomically: a snapshot
// exists in the store exactly when its manifest is on disk. Manifests read from disk or received
// from another site are validated before use.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidArgumentError } from '../../src/shared/errors.js';

export const MANIFEST_FORMAT = 1;

export const HASH_RE = /^[0-9a-f]{64}$/;
/** Snapshot ids name files: no separators, no leading dot. */
export const SNAPSHOT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type FileKind = 'memory' | 'disk' | 'xml' | 'other';
export type MetaValue = string | number | boolean;

export interface ChunkRef {
  /** SHA-256 of the plain (uncompressed) content, hex */
  hash: string;
  /** plain size in bytes */
  size: number;
}

export interface ManifestFile {
  /** unique in the snapshot, e.g. `node-0/memory` */
  name: string;
  /** the VM it belongs to, if any */
  vm?: string;
  kind?: FileKind;
  size: number;
  chunks: ChunkRef[];
}

export interface SnapshotManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  job: string;
  createdAt: string;
  /** how the files were cut (chunker.ts): recorded so a change of parameters is visible */
  chunker: { algo: 'fastcdc' | 'fixed'; version: number; minSize: number; avgSize: number; maxSize: number };
  files: ManifestFile[];
  /** sum of the files' sizes */
  totalBytes: number;
  /** plain bytes of the chunks this snapshot wrote that were not in the store before */
  newBytes: number;
  /** the same chunks' bytes on disk (compressed) */
  newStoredBytes: number;
  /** caller's facts (e.g. pauseSkewMs, downtimeMs) */
  meta: Record<string, MetaValue>;
}

const count = z.number().int().nonnegative();

const schema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(SNAPSHOT_ID_RE),
  job: z.string().min(1),
  createdAt: z.iso.datetime(),
  chunker: z.object({
    algo: z.enum(['fastcdc', 'fixed']),
    version: count,
    minSize: count,
    avgSize: count,
    maxSize: count,
  }),
  files: z.array(
    z.object({
      name: z.string().min(1),
      vm: z.string().optional(),
      kind: z.enum(['memory', 'disk', 'xml', 'other']).optional(),
      size: count,
      chunks: z.array(z.object({ hash: z.string().regex(HASH_RE), size: count })),
    }),
  ),
  totalBytes: count,
  newBytes: count,
  newStoredBytes: count,
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

/** Validates a manifest (from disk or another site): shape, unique file names, sizes that add up. */
export function parseManifest(raw: unknown, source: string): SnapshotManifest {
  const r = schema.safeParse(raw);
  if (!r.success) throw new InvalidArgumentError('manifest', `${source}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const m = r.data as SnapshotManifest;
  const names = new Set<string>();
  let total = 0;
  for (const f of m.files) {
    if (names.has(f.name)) throw new InvalidArgumentError('manifest', `${source}: file ${f.name} appears twice`);
    names.add(f.name);
    const sum = f.chunks.reduce((s, c) => s + c.size, 0);
    if (sum !== f.size) throw new InvalidArgumentError('manifest', `${source}: file ${f.name} has size ${f.size} but its chunks add up to ${sum}`);
    total += f.size;
  }
  if (total !== m.totalBytes) throw new InvalidArgumentError('manifest', `${source}: totalBytes ${m.totalBytes} but files add up to ${total}`);
  return m;
}

/** Every distinct chunk hash a manifest uses. */
export function manifestHashes(m: SnapshotManifest): Set<string> {
  const s = new Set<string>();
  for (const f of m.files) for (const c of f.chunks) s.add(c.hash);
  return s;
}

/** A chunk's name: the SHA-256 of its plain content, hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
