// The coordinator's YAML config (config/coordinator.yaml), validated strictly.
import { resolve } from 'node:path';
import { z } from 'zod';
import { durationMs, hostPort, loadYamlConfig, sizeMiB } from '../shared/config.js';
import { tlsConfigSchema } from '../shared/tls-config.js';
import { metricsConfigSchema } from '../shared/metrics-http.js';
import { dashboardConfigSchema } from './dashboard/server.js';
import { USER_DATA_CEILING_KIB, USER_DATA_DEFAULT_MAX_KIB } from '../shared/seed-input.js';

const DEFAULT_FAILOVER_MS = 2 * 60_000;
const DEFAULT_KEEP_ENDED_MS = 7 * 24 * 3600_000;

export const CoordinatorConfigSchema = z.strictObject({
  listen: hostPort.default('127.0.0.1:7700'),
  dataDir: z.string().min(1).default('.brine/coordinator'),
  /** the grid CA and the coordinator's certificate (role coordinator); required unless --insecure */
  tls: tlsConfigSchema.optional(),
  /** Prometheus `/metrics` over plain HTTP on `metrics.listen` (README, Monitoring); absent: off */
  metrics: metricsConfigSchema.optional(),
  /** the live read-only web dashboard on `dashboard.listen`, loopback only (README, Monitoring); absent: off */
  dashboard: dashboardConfigSchema.optional(),
  /** A site whose agent has been silent this long is DOWN. */
  heartbeatTimeout: durationMs.default(10_000),
  /** How long acknowledged writes may wait to be batched into one file write. */
  commitDelay: durationMs.optional(),
  /** where the state is durable: `file` (lowdb under dataDir, one machine) or `etcd` (several coordinators, one leader) */
  store: z.enum(['file', 'etcd']).default('file'),
  /** `store: etcd`: the etcd cluster (./leadership.ts, ./etcd-backend.ts) */
  etcd: z
    .strictObject({
      endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
      /** every key of this grid is under it */
      prefix: z.string().regex(/^\/(?:[A-Za-z0-9._-]+\/)*$/, 'a key prefix like /brine/ (starts and ends with /)').default('/brine/'),
      /** the leader's etcd lease: a dead leader is replaced after at most this long (etcd's minimum is 2s) */
      leaseTtl: durationMs.refine((ms) => ms >= 2000 && ms <= 60_000, 'between 2s and 60s').default(3000),
    })
    .optional(),
  /** the state journal (./store.ts): compacted into the snapshots once it holds `compactAfter` (default 4 MiB, or the snapshots' size if larger) */
  journal: z.strictObject({ compactAfter: sizeMiB.optional() }).default({}),
  /** server-side limits on what callers ask (./limits.ts) */
  limits: z
    .strictObject({
      /** a job's checkpointEvery may not be shorter */
      minCheckpointEvery: durationMs.default(10_000),
      /** a job's cloud-init user-data (`submit --user-data`), KiB; at most USER_DATA_CEILING_KIB */
      userDataMaxKiB: z.number().int().positive().max(USER_DATA_CEILING_KIB).default(USER_DATA_DEFAULT_MAX_KIB),
      /** per user (certificate name): at most this many VMs held, jobs pending; unset: no limit */
      perUser: z
        .strictObject({
          runningVms: z.number().int().positive().max(1_000_000).optional(),
          pendingJobs: z.number().int().positive().max(1_000_000).optional(),
        })
        .default({}),
    })
    .default({ minCheckpointEvery: 10_000, userDataMaxKiB: USER_DATA_DEFAULT_MAX_KIB, perUser: {} }),
  jobs: z
    .strictObject({
      checkpointEvery: durationMs.default(30 * 60_000),
      /** Failed deploy attempts before a job is FAILED. */
      maxDeployAttempts: z.number().int().positive().max(1000).default(3),
      /**
       * A site DOWN this long loses its running jobs to other sites: each resumes elsewhere from
       * its latest snapshot copied there (its work since is lost). `never` waits for the site.
       */
      failoverAfter: z.union([z.literal('never').transform(() => null), durationMs]).default(DEFAULT_FAILOVER_MS),
      /** ended jobs (their records, consoles and, later, output) are kept this long, then collected (./retention.ts) */
      keepEndedFor: durationMs.default(DEFAULT_KEEP_ENDED_MS),
    })
    .default({ checkpointEvery: 30 * 60_000, maxDeployAttempts: 3, failoverAfter: DEFAULT_FAILOVER_MS, keepEndedFor: DEFAULT_KEEP_ENDED_MS }),
}).superRefine((c, ctx) => {
  if (c.store === 'etcd' && !c.etcd) ctx.addIssue({ code: 'custom', path: ['etcd', 'endpoints'], message: 'store: etcd needs etcd.endpoints (the etcd cluster\'s client URLs)' });
});

export type CoordinatorConfig = z.output<typeof CoordinatorConfigSchema>;

export function loadCoordinatorConfig(file: string): CoordinatorConfig {
  const config = loadYamlConfig(file, CoordinatorConfigSchema);
  return { ...config, dataDir: resolve(config.dataDir) };
}
