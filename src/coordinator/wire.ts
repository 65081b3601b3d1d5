// Records to wire messages: what the CLI sees of a job, what an agent gets to run a cluster.
import type { ClusterSpec, Job } from '../shared/proto.js';
import type { JobRecord } from './store.js';
import { seedSpec, seedWire } from './user-data.js';

/** The wire form of a job (bookkeeping fields dropped). */
export function toJobMessage(job: JobRecord): Job {
  const { deployAttempts: _attempts, pendingOp: _op, autoResume: _auto, userData: _userData, ...wire } = job;
  return { ...wire, ...seedWire(job), egress: job.egress === true, outputDiskMiB: job.outputDiskMiB ?? 0, outputKeptUntil: job.outputKeptUntil ?? '' };
}

/** What the agent needs to run a job's cluster where it is placed now. */
export function clusterSpec(job: JobRecord): ClusterSpec {
  return {
    jobId: job.id,
    jobName: job.name,
    image: job.image,
    cpus: job.cpus,
    memoryMiB: job.memoryMiB,
    subnet: job.subnet,
    gateway: job.gateway,
    vms: job.vms.map((v) => ({ name: v.name, node: v.node, mac: v.mac, ip: v.ip })),
    ...seedSpec(job),
    egress: job.egress === true,
    outputDiskMiB: job.outputDiskMiB ?? 0,
  };
}
