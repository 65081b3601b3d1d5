// The registry of sites: registration (pools checked against every other site's), sessions and
// heartbeats, liveness (UP/DOWN), and the sites as `brine site ls` shows them.
import { AlreadyExistsError, BrineError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import type { ClusterStatus, Site } from '../shared/proto.js';
import { formatDuration } from '../shared/units.js';
import type { RegisterRequest__Output as RegisterRequest } from '../gen/brine/v1/RegisterRequest.js';
import { isMove } from './capacity.js';
import { HOLDING_STATES } from './job-state.js';
import type { SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

interface Session {
  id: string;
  instance: string;
  lastHeartbeat: number;
}

export class SiteRegistry {
  private readonly sessions = new Map<string, Session>();
  /** when each registered site was last seen going DOWN (or this coordinator started without it) */
  private readonly downSince = new Map<string, number>();

  constructor(
    private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'agents' | 'config' | 'clock' | 'ids' | 'log' | 'events' | 'index' | 'grid' | 'catalog' | 'placement' | 'reconciler'>,
  ) {}

  /** A restarted coordinator has seen no site yet: the failover clock starts now, not at their last heartbeat. */
  start(): void {
    const now = this.ctx.clock.now().getTime();
    for (const site of Object.keys(this.ctx.store.data.sites)) if (!this.sessions.has(site)) this.downSince.set(site, now);
  }

  isUp(site: string): boolean {
    const s = this.sessions.get(site);
    return !!s && this.ctx.clock.now().getTime() - s.lastHeartbeat <= this.ctx.config.heartbeatTimeout;
  }

  /** Sites DOWN since when (only those this coordinator saw go down or never saw up). */
  down(): ReadonlyMap<string, number> {
    return this.downSince;
  }

  /** Sites whose heartbeats stopped for longer than `heartbeatTimeout` are DOWN from now. */
  checkLiveness(): void {
    const now = this.ctx.clock.now().getTime();
    for (const [site, s] of this.sessions) {
      if (now - s.lastHeartbeat > this.ctx.config.heartbeatTimeout) {
        this.sessions.delete(site);
        this.downSince.set(site, now);
        this.ctx.log.warn({ site }, 'site DOWN: no heartbeat');
        this.ctx.events.publish({ type: 'site.down', site, reason: `no heartbeat for ${formatDuration(this.ctx.config.heartbeatTimeout)}` });
      }
    }
  }

  views(): Site[] {
    const caps = this.ctx.grid.capacities();
    return Object.values(this.ctx.store.data.sites)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => {
        const cap = caps.get(s.name);
        const session = this.sessions.get(s.name);
        const up = this.isUp(s.name);
        return {
          name: s.name,
          state: up ? 'UP' : 'DOWN',
          nodes: s.nodes.map((n) => {
            const c = cap?.nodes.find((x) => x.name === n.name);
            return {
              name: n.name,
              state: !up ? 'DOWN' : s.reclaimedNodes.includes(n.name) ? 'RECLAIMED' : 'UP',
              cpus: n.cpus,
              memoryMiB: n.memoryMiB,
              freeCpus: n.cpus - (c?.usedCpus ?? 0),
              freeMemoryMiB: n.memoryMiB - (c?.usedMemoryMiB ?? 0),
              uri: n.uri,
              arch: n.arch ?? '',
              domainType: n.domainType ?? '',
              cpuModel: n.cpuModel ?? '',
            };
          }),
          subnetPool: s.subnetPool,
          macRange: s.macRange,
          advertise: s.advertise,
          images: s.images,
          egress: s.egress === true,
          maxOutputDiskMiB: s.maxOutputDiskMiB ?? 0,
          lastHeartbeat: session ? new Date(session.lastHeartbeat).toISOString() : '',
          preempted: [],
        };
      });
  }

  view(site: string): Site {
    const found = this.views().find((s) => s.name === site);
    if (!found) throw new NotFoundError('site', site);
    return found;
  }

  /**
   * Forgets a DOWN site (`brine site remove`, admin): its pool and MAC range are free for another
   * site, its snapshot copies leave the catalog, and leases still `releasing` there (clusters it
   * never confirmed gone) are dropped: if its agent ever comes back it registers anew and fences
   * whatever it still runs. Refused while the site is UP or any live job is placed on it.
   */
  async remove(name: string): Promise<Site> {
    checkName(name, 'site');
    const { store, allocator } = this.ctx;
    const record = store.data.sites[name];
    if (!record || !Object.hasOwn(store.data.sites, name)) throw new NotFoundError('site', name);
    if (this.isUp(name)) {
      throw new NotAllowedError(`site ${name} is UP (its agent heartbeats): stop its agent first; only a DOWN site can be removed`);
    }
    const placed = Object.values(store.data.jobs).filter(
      (j) => j.site === name || (isMove(j.pendingOp) && (j.pendingOp.move.from.site === name || j.pendingOp.move.to.site === name)),
    );
    if (placed.length > 0) {
      const ids = placed.map((j) => `${j.id} (${j.state})`).join(', ');
      throw new NotAllowedError(`site ${name} still holds job${placed.length > 1 ? 's' : ''} ${ids}: cancel them or let them fail over first`);
    }
    const view = this.view(name);
    for (const lease of allocator.leases(name)) allocator.release(name, lease.job);
    allocator.removeSite(name);
    for (const snap of Object.values(store.data.snapshots)) {
      if (snap.sites.includes(name)) this.ctx.catalog.forgetCopies(name, [snap.id]);
    }
    delete store.data.sites[name];
    this.sessions.delete(name);
    this.downSince.delete(name);
    await this.ctx.grid.commit();
    this.ctx.log.warn({ site: name, pool: record.subnetPool }, 'site removed');
    this.ctx.events.publish({ type: 'site.removed', site: name, reason: `site ${name} removed; pool ${record.subnetPool} is free` });
    this.ctx.placement.schedule();
    return view;
  }

  async register(req: RegisterRequest): Promise<{ session: string; heartbeatIntervalMs: number }> {
    validateRegistration(req);
    const { store, allocator } = this.ctx;
    const live = this.sessions.get(req.site);
    const existing = store.data.sites[req.site];
    if (live && this.isUp(req.site) && existing && existing.instance !== req.instance) {
      throw new AlreadyExistsError(
        `site ${req.site} is already registered by a live agent at ${existing.advertise}; stop that agent or give this one another site name`,
      );
    }
    // Validates the pool and MAC range against every other site's (throws, naming both sites).
    allocator.addSite(req.site, req.subnetPool, req.macRange);
    const record: SiteRecord = {
      name: req.site,
      advertise: req.advertise,
      nodes: req.nodes.map((n) => ({
        name: n.name,
        uri: n.uri,
        cpus: n.cpus,
        memoryMiB: n.memoryMiB,
        arch: n.arch,
        domainType: n.domainType,
        domainTypes: [...n.domainTypes],
        cpuModel: n.cpuModel,
      })),
      images: [...req.images].sort(),
      subnetPool: req.subnetPool,
      macRange: req.macRange,
      instance: req.instance,
      defaultCheckpointEvery: req.defaultCheckpointEvery,
      reclaimedNodes: existing?.reclaimedNodes ?? [],
      snapshotsKeep: req.snapshotsKeep > 0 ? req.snapshotsKeep : 3,
      snapshotsReplicas: Math.max(0, req.snapshotsReplicas),
      egress: req.egress,
      maxOutputDiskMiB: req.maxOutputDiskMiB,
    };
    store.data.sites[req.site] = record;
    const session = this.ctx.ids.session();
    const wasUp = this.isUp(req.site);
    this.sessions.set(req.site, { id: session, instance: req.instance, lastHeartbeat: this.ctx.clock.now().getTime() });
    this.downSince.delete(req.site);
    this.ctx.agents.reconnect(req.advertise);
    await this.ctx.grid.commit();
    this.ctx.log.info({ site: req.site, advertise: req.advertise, nodes: req.nodes.length }, 'site registered');
    if (!wasUp) this.ctx.events.publish({ type: 'site.up', site: req.site, reason: `registered from ${req.advertise}` });
    await this.ctx.reconciler.reconcile(req.site, req.clusters);
    this.ctx.placement.schedule();
    return { session, heartbeatIntervalMs: this.ctx.grid.heartbeatIntervalMs() };
  }

  /** A heartbeat: the site is UP; its clusters are reconciled; the answer lists the jobs placed there. */
  async heartbeat(site: string, session: string, clusters: ClusterStatus[]): Promise<string[]> {
    const s = this.checkSession(site, session);
    const wasUp = this.isUp(site);
    s.lastHeartbeat = this.ctx.clock.now().getTime();
    if (!wasUp) {
      this.ctx.events.publish({ type: 'site.up', site, reason: 'heartbeats resumed' });
      this.ctx.placement.schedule();
    }
    await this.ctx.reconciler.reconcile(site, clusters);
    return this.placedJobs(site);
  }

  async reportStatus(site: string, session: string, cluster: ClusterStatus): Promise<void> {
    this.checkSession(site, session);
    await this.ctx.reconciler.reconcile(site, [cluster], { partial: true });
  }

  private checkSession(site: string, session: string): Session {
    const s = this.sessions.get(site);
    if (!s || s.id !== session) throw new BrineError('NOT_FOUND', `unknown session for site ${site}: register again`);
    return s;
  }

  /** Jobs whose VMs belong at `site` now (the agent fences everything else). */
  private placedJobs(site: string): string[] {
    return [...this.ctx.index.at(site)].filter((j) => HOLDING_STATES.has(j.state)).map((j) => j.id);
  }
}

function validateRegistration(req: RegisterRequest): void {
  checkName(req.site, 'site');
  if (!/^[^\s:]+:\d{1,5}$/.test(req.advertise)) throw new InvalidArgumentError('advertise', `expected HOST:PORT, got "${req.advertise}"`);
  if (req.nodes.length === 0) throw new InvalidArgumentError('nodes', 'a site needs at least one node');
  const seen = new Set<string>();
  req.nodes.forEach((n, i) => {
    checkName(n.name, `nodes[${i}].name`);
    if (seen.has(n.name)) throw new InvalidArgumentError(`nodes[${i}].name`, `duplicate node name ${n.name}`);
    seen.add(n.name);
    if (n.cpus <= 0) throw new InvalidArgumentError(`nodes[${i}].cpus`, `must be positive, got ${n.cpus}`);
    if (n.memoryMiB <= 0) throw new InvalidArgumentError(`nodes[${i}].memoryMiB`, `must be positive, got ${n.memoryMiB}`);
  });
  req.images.forEach((img, i) => checkName(img, `images[${i}]`));
  if (!req.instance) throw new InvalidArgumentError('instance', 'is required');
}
