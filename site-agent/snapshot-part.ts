// What the snapshot modules (capture, restore, recovery) share: the options, the site's logger,
// the libvirt connector, the work dir, and reading manifests of the store.
import { join } from 'node:path';
import { NotFoundError } from '../src/shared/errors.js';
import { silentLogger, type Logger } from '../src/shared/logger.js';
import type { Snapshot } from '../src/shared/proto.js';
import type { ClusterManager, SiteFacts } from './clusters.js';
import type { ImageConfig } from './config.js';
import { openLibvirt } from './libvirt/connection.js';
import type { LibvirtConnection } from './libvirt/types.js';
import type { SnapshotStore } from './snapshot-store/index.js';
import type { SnapshotManifest } from './snapshot-store/manifest.js';
import { isTestUri, type CaptureMethod } from './snapshot-format.js';

/** What the snapshot modules need of the cluster manager. */
export type SnapshotClusters = Pick<
  ClusterManager,
  'site' | 'withJobLock' | 'clusterStatus' | 'destroyHeld' | 'trackHeld' | 'consolePath' | 'overlayPath' | 'outputPath' | 'nodeUri' | 'writeSeed'
>;

/** What this module needs of the store (site-agent/snapshot-store/). */
export type SnapshotStoreApi = Pick<
  SnapshotStore,
  'beginSnapshot' | 'manifest' | 'restoreFile' | 'retain' | 'collectGarbage' | 'collectGarbageSoon' | 'pendingImports' | 'pendingImport' | 'abandonImport'
>;

export interface ClusterSnapshotsOptions {
  clusters: SnapshotClusters;
  store: SnapshotStoreApi;
  /** the site's data dir: captures and restores stage their files in `<dataDir>/work/` */
  dataDir: string;
  /** for validating restore specs */
  site: SiteFacts;
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


export abstract class SnapshotPart {
  protected readonly o: ClusterSnapshotsOptions;
  protected readonly log: Logger;
  protected readonly connect: (uri: string) => Promise<LibvirtConnection>;

  constructor(options: ClusterSnapshotsOptions) {
    this.o = options;
    this.log = (options.logger ?? silentLogger).child({ site: options.clusters.site });
    this.connect = options.connect ?? openLibvirt;
  }

  get workDir(): string {
    return join(this.o.dataDir, 'work');
  }

  protected methodFor(uri: string): CaptureMethod {
    const m = this.o.method ?? 'auto';
    if (m !== 'auto') return m;
    return isTestUri(uri) ? 'save' : 'external';
  }

  protected async manifestOrNull(id: string): Promise<SnapshotManifest | null> {
    try {
      return await this.o.store.manifest(id);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
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
}
