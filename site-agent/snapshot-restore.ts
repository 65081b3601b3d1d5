// RestoreCluster: a cluster recreated from a snapshot of this site's store, on the addresses of
// the spec (the site's own config decides the host-side parts: domain-guard.ts).
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, BrineError, errorMessage, InvalidArgumentError } from '../src/shared/errors.js';
import type { ClusterSpec, ClusterStatus } from '../src/shared/proto.js';
import { validateClusterSpec } from './clusters.js';
import type { ImageConfig } from './config.js';
import { domainName, fileDisks, metadataElement, networkName, retarget, type RetargetTo } from './domain-xml.js';
import { SEED_TARGET } from './seed.js';
import { OUTPUT_TARGET } from './output-disk.js';
import { guardRestoredXml, type OwnedByVm } from './domain-guard.js';
import { restoreWithNewNics, rewriteInterfaces } from './libvirt/nic-swap.js';
import type { LibvirtConnection } from './libvirt/types.js';
import { clusterNetworkXml, ensureClusterNetwork } from './cluster-network.js';
import { CorruptChunkError, MissingChunkError } from './snapshot-store/index.js';
import { SNAPSHOT_ID_RE, type SnapshotManifest } from './snapshot-store/manifest.js';
import { captureCode, consoleFile, isTestUri, memoryFile, parseCaptured, SnapshotDamagedError, xmlFile, type CapturedDisk, type CapturedVm } from './snapshot-format.js';
import { SnapshotPart } from './snapshot-part.js';
import { nothingCreated, undoCreated } from './undo-created.js';

export class SnapshotRestore extends SnapshotPart {
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
    const created = nothingCreated();
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
      const xml = clusterNetworkXml(site, spec);
      for (const uri of new Set(spec.vms.map((vm) => this.o.clusters.nodeUri(vm.node)))) {
        const conn = await this.connect(uri);
        conns.push(conn);
        await ensureClusterNetwork(conn, { site, jobId: spec.jobId, xml, uri, created, log, what: 'restore' });
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
            // each disk back to its own file here: the output disk to its path, the root disk to its overlay
            disks: c.disks.map((d) => ({ from: d.source, to: d.target === OUTPUT_TARGET ? this.o.clusters.outputPath(domain) : this.o.clusters.overlayPath(domain) })),
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
      await undoCreated(created, { network: networkName(this.o.clusters.site, spec.jobId), removeFile: (f) => rm(f, { force: true }), log, what: 'restore' });
      if (err instanceof BrineError) throw err;
      throw new BrineError(captureCode(err), `restoring job ${spec.jobId} from snapshot ${m.id} failed: ${errorMessage(err)}; what this attempt created was removed`, {
        cause: err,
      });
    } finally {
      await Promise.allSettled(conns.map((c) => c.close()));
      await rm(work, { recursive: true, force: true }).catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'could not remove restore work files'));
    }
  }
}
