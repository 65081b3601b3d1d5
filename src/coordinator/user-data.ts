// A job's cloud-init inputs (issue 12) on the coordinator: checked at submit, kept in the job's
// persisted record (user-data as base64, so the JSON state holds it as text), and handed to the
// agent in every ClusterSpec (deploy, resume, move, failover), so wherever the job runs next its
// VMs get their NoCloud seed again. The wire `Job` shows only the size and the meta keys.
import type { ClusterSpec, Job } from '../shared/proto.js';
import { checkMeta, checkUserData } from '../shared/seed-input.js';

export interface SeedLimits {
  userDataMaxBytes: number;
}

/** What a SubmitJob request brings for the seed. */
export interface SeedRequest {
  userData: Buffer;
  meta: Record<string, string>;
}

/** What the job record keeps of it (absent on records from before issue 12). */
export interface SeedRecord {
  /** base64 of the user-data bytes ('' or absent: none) */
  userData?: string | undefined;
  userDataBytes?: number | undefined;
  meta?: Record<string, string> | undefined;
}

/** Server-side validation of a submit's seed fields: INVALID_ARGUMENT naming `userData` or `meta.KEY`. */
export function checkSeedRequest(req: SeedRequest, limits: SeedLimits): void {
  checkUserData(req.userData.length, limits.userDataMaxBytes, 'userData');
  checkMeta(req.meta, 'meta');
}

/** The record fields for a new job. */
export function seedRecord(req: SeedRequest): SeedRecord {
  if (req.userData.length === 0 && Object.keys(req.meta).length === 0) return {};
  return { userData: req.userData.toString('base64'), userDataBytes: req.userData.length, meta: { ...req.meta } };
}

/** The ClusterSpec fields the agent builds each VM's seed from. */
export function seedSpec(job: SeedRecord): Pick<ClusterSpec, 'userData' | 'meta'> {
  return { userData: Buffer.from(job.userData ?? '', 'base64'), meta: { ...(job.meta ?? {}) } };
}

/** The wire `Job`'s seed fields (never the bytes). */
export function seedWire(job: SeedRecord): Pick<Job, 'userDataBytes' | 'meta'> {
  return { userDataBytes: job.userDataBytes ?? 0, meta: { ...(job.meta ?? {}) } };
}
