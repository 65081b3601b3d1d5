// Reads the coordinator's event stream (events.ts) and tells when a job's operation — deploy,
// checkpoint, suspend, resume, move — ended, how and how long it took, and how long a submitted
// job waited to be placed. Pure (no clock: times come from the events), so metrics.ts and the
// dashboard derive the same facts from the same stream without touching coordinator.ts.
import type { BrineEvent } from '../shared/proto.js';

export const OP_KINDS = ['deploy', 'checkpoint', 'suspend', 'resume', 'move'] as const;
export type OpKind = (typeof OP_KINDS)[number];
export type OpResult = 'ok' | 'failed';

export interface OpFinished {
  kind: OpKind;
  result: OpResult;
  seconds: number;
  job: string;
  /** where it ended (a move: the destination when it worked) */
  site: string;
}

export interface TrackerOutput {
  submitted(job: string): void;
  placed(job: string, seconds: number): void;
  finished(op: OpFinished): void;
}

interface Open {
  kind: OpKind;
  since: number;
  /** a snapshot of the job was cataloged meanwhile */
  snapshot: boolean;
  /** a move reached its restore at the destination */
  restoring: boolean;
}

const OPENED_BY: Partial<Record<string, OpKind>> = {
  DEPLOYING: 'deploy',
  CHECKPOINTING: 'checkpoint',
  SUSPENDING: 'suspend',
  RESUMING: 'resume',
  RELOCATING: 'move',
};

/** Whether `op` ends well in state `to` (it ends there in any case). */
function succeeded(op: Open, to: string): boolean {
  switch (op.kind) {
    case 'deploy':
    case 'resume':
      return to === 'RUNNING';
    case 'checkpoint':
      return op.snapshot;
    case 'suspend':
      return to === 'SUSPENDED' && op.snapshot;
    case 'move':
      return to === 'RUNNING' && op.restoring;
  }
}

export class OpTracker {
  private readonly open = new Map<string, Open>();
  private readonly waiting = new Map<string, number>();

  constructor(private readonly out: TrackerOutput) {}

  /** Jobs with an operation under way (bounded by the live jobs). */
  get size(): number {
    return this.open.size + this.waiting.size;
  }

  handle(e: BrineEvent): void {
    const at = Date.parse(e.at);
    if (!e.job || Number.isNaN(at)) return;
    if (e.type === 'snapshot.taken') {
      const op = this.open.get(e.job);
      if (op) op.snapshot = true;
      return;
    }
    if (e.type !== 'job.state') return;
    const to = e.state;
    if (to === 'PENDING' && e.reason === 'submitted') {
      this.out.submitted(e.job);
      this.waiting.set(e.job, at);
    }
    const wait = this.waiting.get(e.job);
    if (wait !== undefined && to !== 'PENDING') {
      this.waiting.delete(e.job);
      if (to === 'DEPLOYING') this.out.placed(e.job, (at - wait) / 1000);
    }
    const op = this.open.get(e.job);
    if (op?.kind === 'move' && to === 'RESUMING') {
      op.restoring = true; // a move's restore is part of the move
      return;
    }
    if (op) {
      this.open.delete(e.job);
      this.out.finished({ kind: op.kind, result: succeeded(op, to) ? 'ok' : 'failed', seconds: Math.max(0, (at - op.since) / 1000), job: e.job, site: e.site });
    }
    const kind = OPENED_BY[to];
    if (kind) this.open.set(e.job, { kind, since: at, snapshot: false, restoring: false });
  }
}
