// A stand-in agent for test/qemu/snapshots.test.ts's "killed mid-snapshot" test (not a test file
// itself): `node snapshot-child.js CONFIG_JSON` opens the cluster manager and the store on the given
// data dir and starts a checkpoint of the given job. It prints `dumping` when the first memory dump
// starts, so the test can SIGKILL it in the middle of the capture.
import { ClusterManager } from '../../site-agent/clusters.js';
import { openLibvirt } from '../../site-agent/libvirt/connection.js';
import type { LibvirtConnection } from '../../site-agent/libvirt/types.js';
import { SnapshotStore, storeDir } from '../../site-agent/snapshot-store/index.js';
import { ClusterSnapshots } from '../../site-agent/snapshots.js';
import type { ImageConfig } from '../../site-agent/config.js';
import type { NodeCapacity } from '../../site-agent/clusters.js';

interface ChildConfig {
  site: string;
  dataDir: string;
  nodes: NodeCapacity[];
  images: Record<string, ImageConfig>;
  jobId: string;
  snapshotId: string;
  kind: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

/** The real connection, announcing the memory dump on stdout. */
async function connect(uri: string): Promise<LibvirtConnection> {
  const real = await openLibvirt(uri);
  return new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => Promise<unknown>).bind(target);
      if (prop === 'createSnapshot' || prop === 'saveDomain') {
        return (...args: unknown[]) => {
          process.stdout.write('dumping\n');
          return fn(...args);
        };
      }
      return fn;
    },
  });
}

const manager = await ClusterManager.open({ site: cfg.site, dataDir: cfg.dataDir, nodes: cfg.nodes, images: cfg.images, connect });
const store = await SnapshotStore.open(storeDir(cfg.dataDir));
const snaps = new ClusterSnapshots({ clusters: manager, store, dataDir: cfg.dataDir, site: { nodes: cfg.nodes, images: cfg.images }, connect });
await snaps.take({ jobId: cfg.jobId, snapshotId: cfg.snapshotId, kind: cfg.kind });
process.stdout.write('taken\n');
process.exit(0);
