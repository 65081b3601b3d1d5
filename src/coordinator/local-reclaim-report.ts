// A site's agent reclaimed nodes by itself while the coordinator was unreachable (issue 13;
// site-agent/local-reclaim.ts) and reports it with its registration or heartbeat. Here the
// coordinator takes that over as if it had run the reclaim: the nodes are reclaimed (unschedulable),
// each suspended cluster's snapshot enters the catalog, and its job is SUSPENDED on that snapshot
// with `autoResume`, so the usual placement pass resumes it where there is room. Applied before
// the report's clusters are reconciled (a suspended job's VMs are gone: read as RUNNING, it would
// be redeployed from scratch). Idempotent: a report sent again changes nothing.
import type { Logger } from '../shared/logger.js';
import { NAME_PATTERN } from '../shared/names.js';
import type { Snapshot } from '../shared/proto.js';
import type { LocalReclaimReport__Output as LocalReclaimReport } from '../gen/brine/v1/LocalReclaimReport.js';
import type { LocalSuspension__Output as LocalSuspension } from '../gen/brine/v1/LocalSuspension.js';
import { isEnded, type JobStateName } from './job-state.js';
import type { HotData, JobRecord } from './store.js';

/** What this needs of the coordinator: its state (mutated; the caller commits) and its transitions. */
export interface LocalReclaimContext {
  data: Pick<HotData, 'jobs' | 'sites' | 'snapshots'>;
  /** the coordinator's setState: a legal transition, recorded in the history and published */
  setState(job: JobRecord, to: JobStateName, reason: string): void;
  log: Logger;
}

export interface LocalReclaimOutcome {
  /** the report is recorded (the agent may forget it); false: the site is unknown here, ask again later */
  recorded: boolean;
  /** something changed (commit, then a placement pass) */
  changed: boolean;
  /** jobs now SUSPENDED on their local snapshot */
  suspended: string[];
  /** suspensions left alone, and why */
  ignored: Array<{ job: string; why: string }>;
}

const SNAPSHOT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const validName = (name: string): boolean => NAME_PATTERN.test(name);

export function applyLocalReclaimReport(ctx: LocalReclaimContext, siteName: string, report: LocalReclaimReport): LocalReclaimOutcome {
  const out: LocalReclaimOutcome = { recorded: false, changed: false, suspended: [], ignored: [] };
  const site = ctx.data.sites[siteName];
  if (!site) {
    ctx.log.warn({ site: siteName }, 'local reclaims reported by a site not registered yet: recorded at its next heartbeat');
    return out;
  }
  out.recorded = true;
  const log = ctx.log;
  const known = new Set(site.nodes.map((n) => n.name));
  const nodes = (list: readonly string[]): string[] => {
    const bad = list.filter((n) => !known.has(n) || !validName(n));
    if (bad.length) log.warn({ site: siteName, nodes: bad }, 'local reclaim report names nodes this site does not have: ignored');
    return list.filter((n) => known.has(n));
  };
  const closed = nodes(report.closedNodes);
  const released = nodes(report.releasedNodes).filter((n) => !closed.includes(n));
  const before = site.reclaimedNodes.join(',');
  site.reclaimedNodes = [...new Set([...site.reclaimedNodes.filter((n) => !released.includes(n)), ...closed])].sort();
  if (site.reclaimedNodes.join(',') !== before) {
    out.changed = true;
    log.info({ site: siteName, reclaimed: site.reclaimedNodes, closed, released }, 'nodes reclaimed/released by the site while the coordinator was away');
  }
  for (const s of report.suspended) {
    const why = acceptSuspension(ctx, siteName, s);
    if (why === null) {
      out.suspended.push(s.job);
      out.changed = true;
    } else if (why !== '') {
      out.ignored.push({ job: s.job, why });
      log.warn({ site: siteName, job: s.job, snapshot: s.snapshot?.id, why }, 'local suspension not applied to the job');
    }
  }
  return out;
}

/** null: the job is now SUSPENDED on the snapshot; '': already so; else why it was left alone. */
function acceptSuspension(ctx: LocalReclaimContext, siteName: string, s: LocalSuspension): string | null {
  const snap = s.snapshot;
  if (!snap || !SNAPSHOT_ID.test(snap.id) || snap.job !== s.job) return `malformed report (snapshot ${snap?.id ?? 'missing'} of job ${snap?.job ?? '?'})`;
  const job = ctx.data.jobs[s.job];
  if (!job) return `no such job here`;
  if (job.site !== siteName) return `the job is placed on ${job.site || 'no site'}, not ${siteName}`;
  if (isEnded(job.state)) return `the job is ${job.state}`;
  // the catalog first: whatever happens to the job, the snapshot is complete at the site
  let changed = false;
  if (!ctx.data.snapshots[snap.id]) {
    const rec: Snapshot = { ...snap, job: job.id, sites: [siteName], kind: 'suspend', damagedSites: snap.damaged ? [siteName] : [] };
    if (snap.damaged) rec.sites = [];
    ctx.data.snapshots[snap.id] = rec;
    changed = true;
  }
  if (job.state === 'SUSPENDED' && job.lastSnapshot === snap.id) return changed ? null : '';
  if (job.pendingOp?.kind === 'move') return `the job is moving (${job.pendingOp.move?.phase ?? 'move'}); the snapshot is in the catalog`;
  const reason = `nodes ${s.nodes.join(', ')} of ${siteName} reclaimed by its batch scheduler while the coordinator was unreachable`;
  const what = `suspended by the site's agent at ${s.at}; snapshot ${snap.id} complete on disk`;
  // a deploy or resume the coordinator lost track of (it restarted) did finish: the agent ran it
  if (job.state === 'DEPLOYING' || job.state === 'RESUMING') ctx.setState(job, 'RUNNING', `the site's agent reports it ran on ${siteName}`);
  if (job.state === 'RUNNING' || job.state === 'CHECKPOINTING') ctx.setState(job, 'SUSPENDING', `preempted: ${reason}`);
  if (job.state !== 'SUSPENDING') return `the job is ${job.state}`;
  job.pendingOp = undefined;
  job.lastSnapshot = snap.id;
  job.autoResume = reason;
  for (const vm of job.vms) vm.state = 'SUSPENDED';
  ctx.setState(job, 'SUSPENDED', `${what}; nodes freed, addresses kept`);
  return null;
}
