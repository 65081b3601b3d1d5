// zod schemas of everything the coordinator persists (snapshot files and journal records), so a
// state that does not have the right shape stops the coordinator instead of starting it empty.
// Objects are loose (unknown keys kept): a field a newer version added survives a replay.
import { z } from 'zod';
import { JobState } from '../gen/brine/v1/JobState.js';
import type { ClusterLease } from './address-allocator.js';
import type { ArchiveData, HotData, JobRecord, SiteRecord, StateMeta } from './state-types.js';
import type { Snapshot } from '../shared/proto.js';

const jobStateNames = Object.values(JobState).filter((s): s is Exclude<typeof s, 'JOB_STATE_UNSPECIFIED'> => s !== 'JOB_STATE_UNSPECIFIED');
const jobState = z.enum(jobStateNames as [(typeof jobStateNames)[number], ...(typeof jobStateNames)[number][]]);

const vm = z.looseObject({ name: z.string(), node: z.string(), mac: z.string(), ip: z.string(), state: z.string(), domain: z.string(), console: z.string() });
const placement = z.looseObject({ site: z.string(), subnet: z.string(), gateway: z.string(), vms: z.array(vm) });
const moveState = z.looseObject({
  from: placement,
  to: placement,
  wasRunning: z.boolean(),
  phase: z.enum(['precopy', 'snapshot', 'transfer', 'restore', 'rollback']),
  precopySnapshotId: z.string().optional(),
  restoreTried: z.boolean().optional(),
  failure: z.string().optional(),
});
const pendingOp = z.looseObject({
  kind: z.enum(['checkpoint', 'suspend', 'resume', 'move']),
  snapshotId: z.string(),
  reason: z.string(),
  move: moveState.optional(),
});

export const jobRecordSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  owner: z.string(),
  state: jobState,
  site: z.string(),
  pinnedSite: z.string(),
  subnet: z.string(),
  gateway: z.string(),
  vms: z.array(vm),
  vmCount: z.number().int(),
  cpus: z.number(),
  memoryMiB: z.number(),
  image: z.string(),
  checkpointEvery: z.string(),
  lastSnapshot: z.string(),
  createdAt: z.string(),
  history: z.array(z.looseObject({ at: z.string(), state: jobState, reason: z.string() })),
  deployAttempts: z.number().int(),
  pendingOp: pendingOp.optional(),
  autoResume: z.string().optional(),
  checkpointEveryGiven: z.boolean().optional(),
  needs: z.array(z.looseObject({ arch: z.string(), domainType: z.string() })).optional(),
  // the job's cloud-init inputs (./user-data.ts): user-data as base64
  userData: z.string().optional(),
  userDataBytes: z.number().int().nonnegative().optional(),
  meta: z.record(z.string(), z.string()).optional(),
  egress: z.boolean().optional(),
  outputDiskMiB: z.number().int().nonnegative().optional(),
  outputKeptUntil: z.string().optional(),
});

const nodeSpec = z.looseObject({
  name: z.string(),
  uri: z.string(),
  cpus: z.number(),
  memoryMiB: z.number(),
  arch: z.string(),
  domainType: z.string(),
  domainTypes: z.array(z.string()),
  cpuModel: z.string(),
});

export const siteRecordSchema = z.looseObject({
  name: z.string().min(1),
  advertise: z.string(),
  nodes: z.array(nodeSpec),
  images: z.array(z.string()),
  subnetPool: z.string(),
  macRange: z.string(),
  instance: z.string(),
  defaultCheckpointEvery: z.string(),
  reclaimedNodes: z.array(z.string()),
  snapshotsKeep: z.number(),
  snapshotsReplicas: z.number().optional(),
  egress: z.boolean().optional(),
  maxOutputDiskMiB: z.number().int().nonnegative().optional(),
});

export const snapshotSchema = z.looseObject({
  id: z.string().min(1),
  job: z.string(),
  createdAt: z.string(),
  sites: z.array(z.string()),
  vms: z.array(z.looseObject({ name: z.string(), bytes: z.number() })),
  totalBytes: z.number(),
  newBytes: z.number(),
  pauseSkewMs: z.number(),
  downtimeMs: z.number(),
  damaged: z.boolean(),
  kind: z.string(),
  damagedSites: z.array(z.string()),
});

export const clusterLeaseSchema = z.looseObject({
  site: z.string(),
  job: z.string(),
  subnet: z.string(),
  gateway: z.string(),
  vms: z.array(z.looseObject({ vm: z.string(), mac: z.string(), ip: z.string() })),
  state: z.enum(['reserved', 'active', 'releasing', 'free']),
});

/** The grid's identity and this coordinator's generation (see ./identity.ts). */
export const metaSchema: z.ZodType<StateMeta> = z.strictObject({
  gridId: z.string().min(1),
  epoch: z.number().int().nonnegative(),
});


/** `state.json`: the hot set as of the journal generation `journal` (replayed on top of it). */
export const hotDataSchema = z.looseObject({
  version: z.literal(1),
  jobs: z.record(z.string(), jobRecordSchema),
  sites: z.record(z.string(), siteRecordSchema),
  leases: z.array(clusterLeaseSchema),
  snapshots: z.record(z.string(), snapshotSchema).default({}),
  journal: z.number().int().nonnegative().optional(),
  meta: metaSchema.optional(),
});

/** `archive.json`: ended jobs. */
export const archiveDataSchema = z.looseObject({
  version: z.literal(1),
  jobs: z.record(z.string(), jobRecordSchema),
  journal: z.number().int().nonnegative().optional(),
});

const changes = <T extends z.ZodType>(value: T) =>
  z.strictObject({ put: z.record(z.string(), value).optional(), del: z.array(z.string()).optional() }).optional();

/** One journal record: what one group commit changed. */
export const journalRecordSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  jobs: changes(jobRecordSchema),
  sites: changes(siteRecordSchema),
  snapshots: changes(snapshotSchema),
  archive: changes(jobRecordSchema),
  leases: z.strictObject({ put: z.array(clusterLeaseSchema).optional(), del: z.array(z.tuple([z.string(), z.string()])).optional() }).optional(),
  meta: metaSchema.optional(),
});

interface Changes<T> {
  put?: Record<string, T> | undefined;
  del?: string[] | undefined;
}

/** A journal record as the store writes it (what a parsed record is, too: see SchemaChecks). */
export interface JournalRecord {
  seq: number;
  jobs?: Changes<JobRecord> | undefined;
  sites?: Changes<SiteRecord> | undefined;
  snapshots?: Changes<Snapshot> | undefined;
  archive?: Changes<JobRecord> | undefined;
  leases?: { put?: readonly ClusterLease[] | undefined; del?: Array<[string, string]> | undefined } | undefined;
  meta?: StateMeta | undefined;
}

// Compile-time checks that what the schemas accept is what the code persists.
type Assignable<T, U extends T> = U;
export type SchemaChecks = [
  Assignable<JobRecord, z.infer<typeof jobRecordSchema>>,
  Assignable<SiteRecord, z.infer<typeof siteRecordSchema>>,
  Assignable<Snapshot, z.infer<typeof snapshotSchema>>,
  Assignable<ClusterLease, z.infer<typeof clusterLeaseSchema>>,
  Assignable<Omit<HotData, 'meta' | 'journal'>, Omit<z.infer<typeof hotDataSchema>, 'meta' | 'journal'>>,
  Assignable<JournalRecord, z.infer<typeof journalRecordSchema>>,
  Assignable<Omit<ArchiveData, 'journal'>, Omit<z.infer<typeof archiveDataSchema>, 'journal'>>,
];
