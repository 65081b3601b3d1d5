// The site's virtual clusters, as libvirt sees them: deploy (idempotent), destroy, status, a poll
// loop that notices VMs changing state by themselves, adoption after a restart, and fencing.
//
// libvirt is the source of truth: every answer is computed from libvirt's own view, and a domain
// or network belongs to this site only if its brine metadata says so (nodes may share one
// libvirt URI — both demo nodes use `test:///default` — so a domain's node is read from its
// metadata, never inferred from the connection that lists it).
import { join } from 'node:path';
import { AlreadyExistsError, BrineError, errorMessage, InternalError, InvalidArgumentError, UnavailableError } from '../src/shared/errors.js';
import { silentLogger, type Logger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus } from '../src/shared/proto.js';
import type { ImageConfig } from './config.js';
import {
  buildDomainXml,
  domainName,
  networkName,
  nodeGuest,
  type BootSpec,
  type NodeGuest,
} from './domain-xml.js';
import { clusterNetworkXml, ensureClusterNetwork } from './cluster-network.js';
import { OUTPUT_TARGET, e2fsOutputDisks, type OutputDiskTool } from './output-disk.js';
import { prepareVmDisks } from './vm-disks.js';
import { vmFiles, type VmFiles } from './vm-files.js';
import { SEED_TARGET, isoSeedWriter, seedFiles, type SeedWriter } from './seed.js';
import { openLibvirt } from './libvirt/connection.js';
import type { LibvirtConnection } from './libvirt/types.js';
import { hypervisorLogs, localFiles, type HostFiles } from './host-files.js';
import { KeyedLock } from './keyed-lock.js';
import { reconnecting } from './libvirt/reconnecting.js';
import { JOB_ID, validateClusterSpec, type NodeCapacity } from './cluster-spec.js';
import { ClusterScanner, clusterStatus, sameStatus, type Conn, type SeenCluster, type SeenVm } from './cluster-scan.js';
import { PollLoop } from './poll-loop.js';
import { nothingCreated, undoCreated } from './undo-created.js';

export { hypervisorLogs, localFiles, type HostFiles } from './host-files.js';
export { KeyedLock } from './keyed-lock.js';
export { reconnecting } from './libvirt/reconnecting.js';
export { validateClusterSpec, type NodeCapacity, type SiteFacts } from './cluster-spec.js';
export { vmState, type VmState } from './cluster-scan.js';


// ---------------------------------------------------------------------------------------------

export interface ClusterManagerOptions {
  site: string;
  /** absolute; consoles go to `<dataDir>/consoles`, disk overlays to `<dataDir>/disks` */
  dataDir: string;
  nodes: readonly NodeCapacity[];
  images: Readonly<Record<string, ImageConfig>>;
  /** network.egress is nat: clusters that ask get a NATed network */
  egress?: boolean;
  /** how often the poll loop looks at libvirt (default 1 s) */
  pollIntervalMs?: number;
  logger?: Logger;
  /** opens one libvirt connection; default: the real binding (`./libvirt/connection.js`) */
  connect?: (uri: string) => Promise<LibvirtConnection>;
  files?: HostFiles;
  /** builds the VMs' cloud-init seeds; default: genisoimage, staged in `<dataDir>/work` */
  seeds?: SeedWriter;
  /** the largest output disk per VM, in MiB (outputDisk.max; absent or 0: none) */
  maxOutputDiskMiB?: number;
  /** creates output disks (`submit --output-disk`); default: mkfs.ext4 and qemu-img */
  outputDisks?: Pick<OutputDiskTool, 'create'>;
}

/** Called by the poll loop with a cluster whose VMs changed state (or vanished) by themselves. */
export type ClusterChangeListener = (status: ClusterStatus) => void;

interface Tracked {
  /** the VMs this cluster should have (from deploys and from libvirt): vm name → node */
  vms: Map<string, string>;
  /** the last status the poll loop saw (or a deploy returned); null until then */
  last: ClusterStatus | null;
}

export class ClusterManager {
  readonly site: string;
  private readonly opts: ClusterManagerOptions;
  private readonly log: Logger;
  /** where each VM's host files are (./vm-files.ts) */
  readonly consoleDir: string;
  readonly consolePath: VmFiles['consolePath'];
  readonly overlayPath: VmFiles['overlayPath'];
  readonly outputPath: VmFiles['outputPath'];
  readonly seedPath: VmFiles['seedPath'];
  private readonly files: HostFiles;
  private readonly outputDisks: Pick<OutputDiskTool, 'create'>;
  private readonly seeds: SeedWriter;
  private readonly conns: Conn[];
  private readonly nodeConn: Map<string, Conn>;
  private readonly locks = new KeyedLock();
  private readonly tracked = new Map<string, Tracked>();
  private readonly scanner: ClusterScanner;
  /** a counter ordering deploys and heartbeats (fencing) and mutations and polls */
  private seq = 0;
  private readonly deploySeq = new Map<string, number>();
  private readonly mutationSeq = new Map<string, number>();
  private listeners: ClusterChangeListener[] = [];
  private fenceHook: ((jobId: string) => Promise<void>) | undefined;
  private readonly poller: PollLoop;
  private closed = false;

  private constructor(
    opts: ClusterManagerOptions,
    conns: Conn[],
    /** node name → the domain type and arch its VMs are defined with */
    private readonly guests: Map<string, NodeGuest>,
  ) {
    this.opts = opts;
    this.site = opts.site;
    this.log = (opts.logger ?? silentLogger).child({ site: opts.site });
    this.files = opts.files ?? localFiles;
    this.seeds = opts.seeds ?? isoSeedWriter(join(opts.dataDir, 'work'));
    this.outputDisks = opts.outputDisks ?? e2fsOutputDisks;
    ({ consoleDir: this.consoleDir, consolePath: this.consolePath, overlayPath: this.overlayPath, outputPath: this.outputPath, seedPath: this.seedPath } = vmFiles(opts.dataDir));
    this.conns = conns;
    this.scanner = new ClusterScanner(opts.site, conns);
    this.poller = new PollLoop(opts.pollIntervalMs ?? 1000, () => this.pollOnce(), this.log, 'poll');
    this.nodeConn = new Map(opts.nodes.map((n) => [n.name, conns.find((c) => c.uri === n.uri) as Conn]));
  }

  /** Opens one libvirt connection per distinct node URI. */
  static async open(opts: ClusterManagerOptions): Promise<ClusterManager> {
    const connect = opts.connect ?? openLibvirt;
    const log = (opts.logger ?? silentLogger).child({ site: opts.site });
    const conns: Conn[] = [];
    const guests = new Map<string, NodeGuest>();
    try {
      for (const uri of new Set(opts.nodes.map((n) => n.uri))) {
        const nodes = opts.nodes.filter((n) => n.uri === uri);
        let lv: LibvirtConnection;
        try {
          lv = await connect(uri);
        } catch (err) {
          throw new UnavailableError(`cannot open libvirt at ${uri} (node ${nodes.map((n) => n.name).join(', ')}): ${(err as Error).message}`, err);
        }
        conns.push({ uri, lv: reconnecting(lv, connect, opts.logger ?? silentLogger) });
        const caps = await lv.capabilities();
        for (const n of nodes) {
          let guest: NodeGuest;
          try {
            guest = nodeGuest(caps, n.accel ?? 'auto');
          } catch (err) {
            throw new InvalidArgumentError(`nodes.${n.name}.accel`, `${(err as Error).message.replace(/^accel: /, '')} (${uri})`);
          }
          guests.set(n.name, guest);
          log.info({ node: n.name, uri, domainType: guest.type, arch: guest.arch, runs: guest.types, cpuModel: guest.cpuModel, why: guest.why }, 'node guest type');
        }
      }
    } catch (err) {
      await Promise.allSettled(conns.map((c) => c.lv.close()));
      throw err;
    }
    return new ClusterManager(opts, conns, guests);
  }

  /** Builds (or rebuilds) the seed of VM `vm` from the spec, for a deploy or a restore; returns its path. */
  async writeSeed(spec: ClusterSpec, vm: string): Promise<string> {
    const path = this.seedPath(domainName(spec.jobId, vm));
    await this.seeds.write(path, seedFiles(spec, vm));
    return path;
  }

  /** The libvirt connection of a node (tests use it to act behind the agent's back). */
  connection(node: string): LibvirtConnection {
    const c = this.nodeConn.get(node);
    if (!c) throw new InvalidArgumentError('node', `unknown node "${node}"`);
    return c.lv;
  }

  // -------------------------------------------------------------------------------------------
  // Reading libvirt


  private toStatus(jobId: string, seen: SeenCluster | undefined): ClusterStatus {
    return clusterStatus(this.site, jobId, seen, this.tracked.get(jobId)?.vms, (d) => this.consolePath(d));
  }

  private statuses(seen: Map<string, SeenCluster>): ClusterStatus[] {
    const jobs = new Set([...seen.keys(), ...this.tracked.keys()]);
    return [...jobs].sort().map((job) => this.toStatus(job, seen.get(job)));
  }

  /** Every cluster of this site: what libvirt holds, plus VMs it lost (`MISSING`). */
  async status(): Promise<ClusterStatus[]> {
    return this.statuses(await this.scanner.scan());
  }

  /** libvirt's own XML of a cluster's network (virNetworkGetXMLDesc), for operators and tests; '' if none. */
  async networkXml(jobId: string): Promise<string> {
    const seen = (await this.scanner.scan()).get(jobId);
    const conn = seen?.networks[0];
    return conn ? conn.lv.networkXml(networkName(this.site, jobId)) : '';
  }

  /** One cluster's status; null if libvirt holds nothing of it and it is not tracked. */
  async clusterStatus(jobId: string): Promise<ClusterStatus | null> {
    const seen = (await this.scanner.scan()).get(jobId);
    if (!seen && !this.tracked.has(jobId)) return null;
    return this.toStatus(jobId, seen);
  }

  private track(jobId: string): Tracked {
    let t = this.tracked.get(jobId);
    if (!t) this.tracked.set(jobId, (t = { vms: new Map(), last: null }));
    return t;
  }

  /**
   * Takes over what already runs (after an agent restart): every cluster of this site that libvirt
   * holds is tracked from now on, as if deployed before any heartbeat (so fencing applies to it).
   */
  async adopt(): Promise<ClusterStatus[]> {
    const seen = await this.scanner.scan();
    for (const [job, c] of seen) {
      const t = this.track(job);
      for (const [name, vm] of c.vms) t.vms.set(name, vm.meta.node);
      t.last = this.toStatus(job, c);
      this.log.info({ job, vms: c.vms.size, network: c.networks.length > 0 }, 'adopted cluster already in libvirt');
    }
    return this.statuses(seen);
  }

  // -------------------------------------------------------------------------------------------
  // Deploy and destroy

  private touch(jobId: string): void {
    this.mutationSeq.set(jobId, ++this.seq);
  }

  /**
   * Makes the cluster exist: its network on every connection that hosts one of its VMs, and each
   * missing VM defined and started. What exists already is left alone (a retried deploy never
   * duplicates). On failure, removes what this call created and throws.
   */
  async deploy(spec: ClusterSpec): Promise<ClusterStatus> {
    validateClusterSpec(spec, this.opts);
    // Recorded on arrival, before waiting for the job's lock: a heartbeat sent before this point
    // may fence the job, one sent after may not (see `fence`).
    this.deploySeq.set(spec.jobId, ++this.seq);
    return this.locks.run(spec.jobId, async () => {
      this.touch(spec.jobId);
      try {
        return await this.deployLocked(spec);
      } finally {
        this.touch(spec.jobId);
      }
    });
  }

  private async deployLocked(spec: ClusterSpec): Promise<ClusterStatus> {
    const log = this.log.child({ job: spec.jobId });
    const image = this.opts.images[spec.image] as ImageConfig;
    const netName = networkName(this.site, spec.jobId);
    const wasTracked = this.tracked.has(spec.jobId);
    const created = nothingCreated();
    const vmConn = (node: string): Conn => this.nodeConn.get(node) as Conn;
    log.info({ vms: spec.vms.length, image: spec.image, subnet: spec.subnet }, 'deploying cluster');
    try {
      const seen = (await this.scanner.scan()).get(spec.jobId);

      // The network, on each connection hosting one of the cluster's VMs.
      const xml = clusterNetworkXml(this.site, spec);
      for (const conn of new Set(spec.vms.map((vm) => vmConn(vm.node)))) {
        await ensureClusterNetwork(conn.lv, { site: this.site, jobId: spec.jobId, xml, uri: conn.uri, created, log, what: 'deploy' });
      }

      await this.files.ensureDir(this.consoleDir);
      const t = this.track(spec.jobId);
      for (const vm of spec.vms) {
        const vlog = log.child({ vm: vm.name });
        const name = domainName(spec.jobId, vm.name);
        if (seen?.vms.has(vm.name)) {
          t.vms.set(vm.name, (seen.vms.get(vm.name) as SeenVm).meta.node);
          continue;
        }
        const conn = vmConn(vm.node);
        const existing = await conn.lv.lookupDomain(name);
        if (existing) {
          // Same name, but not this VM of this site (its metadata said otherwise): never take it over.
          throw new AlreadyExistsError(`libvirt domain ${name} on ${conn.uri} exists and is not VM ${vm.name} of job ${spec.jobId}`);
        }
        const { overlay, output } = await prepareVmDisks({ files: this.files, outputDisks: this.outputDisks }, {
          overlay: image.disk === undefined ? undefined : { base: image.disk, path: this.overlayPath(name) },
          output: spec.outputDiskMiB > 0 ? { sizeMiB: spec.outputDiskMiB, path: this.outputPath(name) } : undefined,
          testDriver: conn.uri.startsWith('test:'),
          created,
        });
        const boot: BootSpec =
          image.kind === 'kernel'
            ? { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, cmdline: image.cmdline, overlay }
            : { kind: 'disk', overlay: overlay as string };
        // built here from the spec, at every deploy (and restore): never a file from another site
        const seed = await this.writeSeed(spec, vm.name);
        created.files.push(seed);
        const guest = this.guests.get(vm.node) as NodeGuest; // every configured node has one (open)
        const xml = buildDomainXml({
          type: guest.type,
          arch: guest.arch,
          name,
          memoryMiB: spec.memoryMiB,
          vcpus: spec.cpus,
          boot,
          mac: vm.mac.toLowerCase(),
          network: netName,
          consolePath: this.consolePath(name),
          metadata: { site: this.site, job: spec.jobId, vm: vm.name, node: vm.node, mac: vm.mac.toLowerCase(), ip: vm.ip, image: spec.image },
          seed: { path: seed, target: SEED_TARGET },
          output: output === undefined ? undefined : { path: output, target: OUTPUT_TARGET },
        });
        await conn.lv.defineDomain(xml);
        created.domains.push({ conn: conn.lv, name });
        const startAt = Date.now();
        await conn.lv.startDomain(name);
        t.vms.set(vm.name, vm.node);
        vlog.info({ domain: name, node: vm.node, mac: vm.mac, ip: vm.ip, startMs: Date.now() - startAt }, 'VM started');
      }
    } catch (err) {
      await undoCreated(created, {
        network: netName,
        removeFile: (f) => this.files.remove(f),
        withDomain: (conn, name) => [
          [`console of ${name}`, () => this.files.remove(this.consolePath(name))],
          [`QEMU log of ${name}`, () => this.removeHypervisorLogs(conn.uri, name)],
        ],
        log,
        what: 'deploy',
      });
      if (!wasTracked) this.tracked.delete(spec.jobId);
      else for (const { name } of created.domains) this.forgetVm(spec.jobId, name);
      // Keep the cause's code (libvirt's errors are typed: UNAVAILABLE when a node's libvirtd is
      // gone, INVALID_ARGUMENT when it rejects the XML…) and say what happened to the cluster.
      const message = `deploying job ${spec.jobId} on site ${this.site} failed: ${(err as Error).message}; what this attempt created was removed`;
      throw new BrineError(err instanceof BrineError ? err.code : 'INTERNAL', message, { cause: err });
    }
    const status = this.toStatus(spec.jobId, (await this.scanner.scan()).get(spec.jobId));
    this.track(spec.jobId).last = status;
    return status;
  }

  private forgetVm(jobId: string, domain: string): void {
    const t = this.tracked.get(jobId);
    if (!t) return;
    for (const vm of t.vms.keys()) if (domainName(jobId, vm) === domain) t.vms.delete(vm);
  }

  /** Deletes libvirt's own log of a destroyed domain, where it is on this host (`hypervisorLogs`). */
  private async removeHypervisorLogs(uri: string, domain: string): Promise<void> {
    for (const file of hypervisorLogs(uri, domain)) await this.files.remove(file);
  }

  /**
   * Destroys and undefines the cluster's VMs and network and deletes their files (console, disk
   * overlay, libvirt's QEMU log); succeeds if gone.
   */
  async destroy(jobId: string, reason = 'requested'): Promise<ClusterStatus> {
    if (!JOB_ID.test(jobId)) throw new InvalidArgumentError('jobId', `"${jobId}" is not a valid job id`);
    return this.locks.run(jobId, async () => {
      this.touch(jobId);
      try {
        await this.destroyLocked(jobId, reason);
      } finally {
        this.touch(jobId);
      }
      return { jobId, network: '', vms: [], networkXml: '' };
    });
  }

  private async destroyLocked(jobId: string, reason: string): Promise<void> {
    const log = this.log.child({ job: jobId });
    const seen = (await this.scanner.scan()).get(jobId);
    // Its domains' metadata is read again next time: a VM keeps its name and UUID when its job
    // moves, so the same UUID may come back as another site's (sharing this libvirtd) or as a restore here.
    this.scanner.forgetJob(jobId);
    const failures: string[] = [];
    for (const vm of seen?.vms.values() ?? []) {
      try {
        await vm.conn.lv.destroyDomain(vm.domain);
        await vm.conn.lv.undefineDomain(vm.domain);
        log.info({ vm: vm.meta.vm, domain: vm.domain, reason }, 'VM destroyed');
      } catch (err) {
        failures.push(`domain ${vm.domain}: ${(err as Error).message}`);
      }
    }
    const netName = networkName(this.site, jobId);
    for (const conn of seen?.networks ?? []) {
      try {
        await conn.lv.destroyNetwork(netName);
        await conn.lv.undefineNetwork(netName);
        log.info({ network: netName, uri: conn.uri }, 'network removed');
      } catch (err) {
        failures.push(`network ${netName} on ${conn.uri}: ${(err as Error).message}`);
      }
    }
    if (failures.length > 0) {
      // Keep tracking it: the next destroy (the coordinator retries) finishes the job.
      throw new InternalError(`destroying job ${jobId} on site ${this.site} left: ${failures.join('; ')}`);
    }
    // domain → the URI of its node (for its QEMU log), from libvirt and from what was deployed
    const domains = new Map<string, string>([...(seen?.vms.values() ?? [])].map((v) => [v.domain, v.conn.uri]));
    const elsewhere = new Set<string>();
    for (const [vm, node] of this.tracked.get(jobId)?.vms ?? []) {
      const d = domainName(jobId, vm);
      if (domains.has(d)) continue;
      const conn = this.nodeConn.get(node);
      domains.set(d, conn?.uri ?? '');
      // Names carry no site: a domain of that name on the node now is the VM at another site
      // sharing this libvirtd (the job moved), and libvirt's log is that one's.
      const there = await conn?.lv.lookupDomain(d).catch((err: unknown) => {
        this.log.warn({ job: jobId, domain: d, err: errorMessage(err) }, 'destroy: cannot tell whether the domain runs elsewhere; keeping its QEMU log');
        return 'unknown' as const;
      });
      if (there) elsewhere.add(d);
    }
    // the cluster is gone either way: a file left behind is logged, not a failed destroy
    const leftover = (what: string) => (err: unknown) => this.log.warn({ job: jobId, file: what, err: errorMessage(err) }, 'destroy: could not remove a host file');
    for (const [d, uri] of domains) {
      for (const f of [this.consolePath(d), this.overlayPath(d), this.outputPath(d), this.seedPath(d)]) await this.files.remove(f).catch(leftover(f));
      if (!elsewhere.has(d)) await this.removeHypervisorLogs(uri, d).catch(leftover(`QEMU logs of ${d}`));
    }
    this.tracked.delete(jobId);
    this.deploySeq.delete(jobId);
  }

  // -------------------------------------------------------------------------------------------
  // Hooks for snapshots and restores (./snapshots.ts), which run under the job's lock too.

  /**
   * Runs `fn` under the job's lock, as deploy and destroy do: calls for one job never interleave,
   * and the poll loop skips the job meanwhile, so VMs paused or stopped by a snapshot are never
   * reported as having changed by themselves. `asDeploy`: the call (re)creates the cluster (a
   * restore), so a heartbeat answer older than it must not fence it (see `fence`).
   */
  async withJobLock<T>(jobId: string, fn: () => Promise<T>, opts: { asDeploy?: boolean } = {}): Promise<T> {
    if (!JOB_ID.test(jobId)) throw new InvalidArgumentError('jobId', `"${jobId}" is not a valid job id`);
    if (opts.asDeploy) this.deploySeq.set(jobId, ++this.seq);
    return this.locks.run(jobId, async () => {
      this.touch(jobId);
      try {
        return await fn();
      } finally {
        this.touch(jobId);
      }
    });
  }

  /** `destroy` for a caller already holding the job's lock (`withJobLock`). */
  async destroyHeld(jobId: string, reason: string): Promise<void> {
    await this.destroyLocked(jobId, reason);
  }

  /**
   * Tracks every VM libvirt holds of the job from now on (after a restore created them) and
   * returns the cluster's status. The caller holds the job's lock.
   */
  async trackHeld(jobId: string): Promise<ClusterStatus> {
    this.scanner.forgetJob(jobId);
    const seen = (await this.scanner.scan()).get(jobId);
    const t = this.track(jobId);
    for (const [name, vm] of seen?.vms ?? []) t.vms.set(name, vm.meta.node);
    const status = this.toStatus(jobId, seen);
    t.last = status;
    return status;
  }

  /** What each node runs (domain type of new VMs, the types it can restore, arch, host CPU), as registered. */
  nodeGuest(node: string): NodeGuest | undefined {
    return this.guests.get(node);
  }

  /** The libvirt URI of a node. */
  nodeUri(node: string): string {
    const c = this.nodeConn.get(node);
    if (!c) throw new InvalidArgumentError('node', `unknown node "${node}"`);
    return c.uri;
  }

  /** Destroys every cluster of this site (`brine-agent --cleanup`). */
  async destroyAll(reason = 'cleanup'): Promise<string[]> {
    const jobs = (await this.status()).map((c) => c.jobId);
    for (const job of jobs) await this.destroy(job, reason);
    return jobs;
  }

  // -------------------------------------------------------------------------------------------
  // Fencing

  /** Runs before a fence destroys a cluster, under its lock (main.ts keeps its consoles and output disks: it may have just ended). */
  setFenceHook(hook: (jobId: string) => Promise<void>): void {
    this.fenceHook = hook;
  }

  /** Taken just before a heartbeat is sent; pass it to `fence` with that heartbeat's answer. */
  fenceMark(): number {
    return ++this.seq;
  }

  /**
   * Destroys the clusters the coordinator no longer places here (it resumed them elsewhere, or
   * cancelled them while this agent was cut off) — but only those whose last deploy arrived before
   * `mark`: a deploy racing with the heartbeat is newer than the answer and is kept.
   */
  async fence(placedJobs: Iterable<string>, mark: number): Promise<string[]> {
    const placed = new Set(placedJobs);
    const candidates = new Set([...(await this.scanner.scan()).keys(), ...this.tracked.keys()]);
    const fenced: string[] = [];
    for (const job of candidates) {
      if (placed.has(job)) continue;
      const destroyed = await this.locks.run(job, async () => {
        if ((this.deploySeq.get(job) ?? 0) > mark) return false;
        this.touch(job);
        try {
          await this.fenceHook?.(job).catch((err: unknown) => this.log.warn({ job, err: errorMessage(err) }, 'fence: could not keep the consoles and output disks'));
          await this.destroyLocked(job, 'fenced: the coordinator no longer places this job on this site');
        } finally {
          this.touch(job);
        }
        return true;
      });
      if (destroyed) {
        fenced.push(job);
        this.log.warn({ job }, 'fenced: destroyed a cluster the coordinator does not place here');
      }
    }
    return fenced;
  }

  // -------------------------------------------------------------------------------------------
  // The poll loop

  onChange(listener: ClusterChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Starts looking at libvirt every `pollIntervalMs` for VMs that changed state by themselves. */
  startPolling(): void {
    if (this.closed) return;
    this.poller.start();
  }

  stopPolling(): Promise<void> {
    return this.poller.stop();
  }

  /** One look at libvirt; calls the listeners for each cluster that changed. Exposed for tests. */
  async pollOnce(): Promise<ClusterStatus[]> {
    const startSeq = this.seq;
    const seen = await this.scanner.scan();
    const changed: ClusterStatus[] = [];
    for (const job of new Set([...seen.keys(), ...this.tracked.keys()])) {
      // A deploy or destroy of this job ran meanwhile (or runs): this scan may predate it.
      if (this.locks.isBusy(job) || (this.mutationSeq.get(job) ?? 0) > startSeq) continue;
      const now = this.toStatus(job, seen.get(job));
      const t = this.track(job);
      const before = t.last;
      t.last = now;
      for (const vm of now.vms) t.vms.set(vm.name, vm.node);
      if (before && sameStatus(before, now)) continue;
      if (!before) {
        // Not deployed by this process and not adopted at start: seen now for the first time.
        this.log.info({ job }, 'found a cluster of this site in libvirt; tracking it');
        continue;
      }
      for (const vm of now.vms) {
        const old = before.vms.find((v) => v.name === vm.name);
        if (old?.state !== vm.state) {
          this.log.info({ job, vm: vm.name, from: old?.state ?? 'none', to: vm.state }, 'VM changed state');
        }
      }
      changed.push(now);
      for (const l of this.listeners) {
        try {
          l(now);
        } catch (err) {
          this.log.error({ job, err: (err as Error).message }, 'cluster change listener failed');
        }
      }
    }
    return changed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopPolling();
    await Promise.allSettled(this.conns.map((c) => c.lv.close()));
  }
}
