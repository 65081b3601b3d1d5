// Indexes over the live jobs, kept current as jobs change instead of scanned per pass: the jobs at
// each site (a heartbeat's work is that site's jobs), the pending and the waiting-to-resume ones
// (a placement pass looks at those only), and what each job holds of each node (capacity without
// iterating jobs). `update(job)` is called wherever a job's state, site, nodes or move phase
// changes (GridState.setState, a submit, a move's next phase); `rebuild` at start-up.
import { isMove } from './capacity.js';
import { HOLDING_STATES, isEnded } from './job-state.js';
import type { JobRecord, Placement } from './store.js';

interface Holding {
  site: string;
  node: string;
  cpus: number;
  memoryMiB: number;
}

export interface NodeUse {
  usedCpus: number;
  usedMemoryMiB: number;
}

/** What a job holds now: a move holds the destination from the start, the origin until its final snapshot. */
export function holdingsOf(job: JobRecord): Holding[] {
  let places: Placement[];
  if (isMove(job.pendingOp)) {
    const m = job.pendingOp.move;
    places = m.phase === 'rollback' ? [] : [m.to];
    if ((m.phase === 'precopy' || m.phase === 'snapshot') && m.wasRunning) places.push(m.from);
  } else if (HOLDING_STATES.has(job.state) && job.site) {
    places = [{ site: job.site, subnet: '', gateway: '', vms: job.vms }];
  } else {
    places = [];
  }
  return places.flatMap((p) => p.vms.map((v) => ({ site: p.site, node: v.node, cpus: job.cpus, memoryMiB: job.memoryMiB })));
}

export class JobIndex {
  // keyed by job id, not by object: the store may hand out wrappers of one record
  private readonly bySite = new Map<string, Map<string, JobRecord>>();
  private readonly siteOf = new Map<string, string>();
  private readonly pendingJobs = new Map<string, JobRecord>();
  private readonly waitingJobs = new Map<string, JobRecord>();
  private readonly held = new Map<string, Holding[]>();
  /** site → node → what live jobs hold of it */
  private readonly use = new Map<string, Map<string, NodeUse>>();

  rebuild(jobs: Iterable<JobRecord>): void {
    this.bySite.clear();
    this.siteOf.clear();
    this.pendingJobs.clear();
    this.waitingJobs.clear();
    this.held.clear();
    this.use.clear();
    for (const job of jobs) this.update(job);
  }

  /** Brings the indexes up to date with `job` as it is now. */
  update(job: JobRecord): void {
    const live = !isEnded(job.state);
    const site = live ? job.site : '';
    const before = this.siteOf.get(job.id);
    if (before && before !== site) this.bySite.get(before)?.delete(job.id);
    if (site) {
      let jobs = this.bySite.get(site);
      if (!jobs) this.bySite.set(site, (jobs = new Map()));
      jobs.set(job.id, job);
      this.siteOf.set(job.id, site);
    } else {
      this.siteOf.delete(job.id);
    }
    if (job.state === 'PENDING') this.pendingJobs.set(job.id, job);
    else this.pendingJobs.delete(job.id);
    if (job.state === 'SUSPENDED' && job.autoResume && !job.pendingOp) this.waitingJobs.set(job.id, job);
    else this.waitingJobs.delete(job.id);
    for (const h of this.held.get(job.id) ?? []) this.add(h, -1);
    const now = live ? holdingsOf(job) : [];
    for (const h of now) this.add(h, 1);
    if (now.length) this.held.set(job.id, now);
    else this.held.delete(job.id);
  }

  /** The job left the live set (archived, or its submission failed). */
  remove(job: JobRecord): void {
    const site = this.siteOf.get(job.id);
    if (site) this.bySite.get(site)?.delete(job.id);
    this.siteOf.delete(job.id);
    this.pendingJobs.delete(job.id);
    this.waitingJobs.delete(job.id);
    for (const h of this.held.get(job.id) ?? []) this.add(h, -1);
    this.held.delete(job.id);
  }

  /** The live jobs placed at `site` (its `site` field), in no particular order. */
  at(site: string): Iterable<JobRecord> {
    return this.bySite.get(site)?.values() ?? [];
  }

  pending(): Iterable<JobRecord> {
    return this.pendingJobs.values();
  }

  /** SUSPENDED jobs that resume by themselves (`autoResume`) and have no operation under way. */
  waiting(): Iterable<JobRecord> {
    return this.waitingJobs.values();
  }

  nodeUse(site: string, node: string): NodeUse | undefined {
    return this.use.get(site)?.get(node);
  }

  /** A canonical dump of the indexes (tests compare the live index with one rebuilt from scratch). */
  dump(): string {
    const ids = (jobs: ReadonlyMap<string, JobRecord>) => [...jobs.keys()].sort();
    return JSON.stringify({
      sites: [...this.bySite].map(([s, set]) => ({ s, ids: ids(set) })).filter((e) => e.ids.length > 0).sort((a, b) => a.s.localeCompare(b.s)),
      pending: ids(this.pendingJobs),
      waiting: ids(this.waitingJobs),
      use: [...this.use]
        .map(([s, nodes]) => ({ s, nodes: [...nodes].sort((a, b) => a[0].localeCompare(b[0])) }))
        .filter((e) => e.nodes.length > 0)
        .sort((a, b) => a.s.localeCompare(b.s)),
    });
  }

  private add(h: Holding, sign: 1 | -1): void {
    let nodes = this.use.get(h.site);
    if (!nodes) this.use.set(h.site, (nodes = new Map()));
    const u = nodes.get(h.node) ?? { usedCpus: 0, usedMemoryMiB: 0 };
    u.usedCpus += sign * h.cpus;
    u.usedMemoryMiB += sign * h.memoryMiB;
    if (u.usedCpus === 0 && u.usedMemoryMiB === 0) nodes.delete(h.node);
    else nodes.set(h.node, u);
  }
}
