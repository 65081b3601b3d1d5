// Transfer scheduling: who may move snapshot bytes now, and how fast (DESIGN.md "Snapshots",
// issue 6 point 2). Pure logic over an injectable clock, so it is unit-tested without waiting.
//
// Policy (also in docs/design-notes.md "Transfers"):
// - Destination side: at most `transfer.maxConcurrent` transfers of this agent run at once
//   (`TransferScheduler`); the others wait in a queue. Urgent transfers (a resume someone waits
//   for) are queued before every background one (replication); within a class, first come first
//   served. A background transfer that holds a slot while an urgent one waits *yields* it at the
//   next chunk (`Slot.shouldYield()`): it keeps what already arrived and queues again at the head of
//   the background class, so a resume never waits for a whole replica to finish.
// - Bandwidth: two token buckets per agent (`TokenBucket`, each `transfer.bandwidthMiBps`), one per
//   direction, charged with the bytes as they travel (compressed). The receive bucket is shared by
//   its transfers as destination: one out of tokens stops reading its stream, so HTTP/2 flow
//   control slows the sender too. The send bucket is shared by the ReadChunks streams it serves.
// - Source side (Saline's n-to-1 problem): the agent also serves at most `transfer.maxConcurrent`
//   `ReadChunks` streams at once (a second `TransferScheduler`); excess callers wait in its queue
//   (urgent first too, by the caller's flag). Destinations ask in batches and release the slot
//   between batches, so many sites fetching from one share it in turns instead of piling up.
import { setTimeout as sleepReal } from 'node:timers/promises';

/** Milliseconds clock with sleep; the fake in the unit tests advances by hand. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepReal(ms, undefined, signal ? { signal } : undefined),
};

export type Priority = 'urgent' | 'background';

/** An aborted wait rejects with this (a cancelled call, a shut-down agent). */
export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what}: cancelled`);
    this.name = 'AbortedError';
  }
}

interface Waiter {
  priority: Priority;
  seq: number;
  label: string;
  grant: (slot: Slot) => void;
}

/** A running transfer's permission; `release()` exactly once (extra calls are ignored). */
export interface Slot {
  readonly priority: Priority;
  readonly label: string;
  /** true when this is a background transfer and an urgent one is waiting for a slot */
  shouldYield(): boolean;
  release(): void;
}

export interface SchedulerSnapshot {
  running: Array<{ label: string; priority: Priority }>;
  queued: Array<{ label: string; priority: Priority }>;
}

/** A priority semaphore: `max` slots, urgent waiters before background ones, FIFO within a class. */
export class TransferScheduler {
  private readonly running = new Set<Slot>();
  private readonly queue: Waiter[] = [];
  private seq = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${max}`);
  }

  /**
   * Waits for a slot. `front` puts a background waiter ahead of the other background ones (a
   * transfer that yielded keeps its turn). Rejects with AbortedError if `signal` aborts first.
   */
  acquire(priority: Priority, label: string, signal?: AbortSignal, front = false): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(new AbortedError(label));
    if (this.running.size < this.max && this.queue.length === 0) return Promise.resolve(this.makeSlot(priority, label));
    return new Promise<Slot>((resolve, reject) => {
      const w: Waiter = { priority, seq: front ? -++this.seq : ++this.seq, label, grant: resolve };
      this.insert(w);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(new AbortedError(label));
          }
        },
        { once: true },
      );
    });
  }

  /** Urgent first, then by sequence (negative: re-queued after yielding). */
  private insert(w: Waiter): void {
    const rank = (x: Waiter): number => (x.priority === 'urgent' ? 0 : 1);
    let i = this.queue.findIndex((q) => rank(q) > rank(w) || (rank(q) === rank(w) && q.seq > w.seq));
    if (i < 0) i = this.queue.length;
    this.queue.splice(i, 0, w);
  }

  /** Raises a queued waiter to urgent (a resume now waits for a replication already queued). */
  promote(label: string): void {
    const i = this.queue.findIndex((q) => q.label === label && q.priority === 'background');
    if (i < 0) return;
    const [w] = this.queue.splice(i, 1);
    if (!w) return;
    w.priority = 'urgent';
    this.insert(w);
  }

  private makeSlot(priority: Priority, label: string): Slot {
    let released = false;
    const slot: Slot = {
      priority,
      label,
      shouldYield: () => priority === 'background' && this.queue.some((q) => q.priority === 'urgent'),
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(slot);
        this.dispatch();
      },
    };
    this.running.add(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.running.size < this.max) {
      const w = this.queue.shift();
      if (!w) return;
      w.grant(this.makeSlot(w.priority, w.label));
    }
  }

  state(): SchedulerSnapshot {
    return {
      running: [...this.running].map((s) => ({ label: s.label, priority: s.priority })),
      queued: this.queue.map((q) => ({ label: q.label, priority: q.priority })),
    };
  }
}

/**
 * A token bucket in bytes, shared by every transfer of an agent. `take(n)` charges n bytes at once
 * (the balance may go negative) and waits until the balance is back to zero: a burst of at most
 * `burstBytes` passes without waiting, then the long-run rate is `bytesPerSecond`. Takers that
 * come while the balance is negative wait behind the earlier ones (FIFO by construction).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bandwidth must be positive, got ${bytesPerSecond}`);
    this.tokens = burstBytes;
    this.last = clock.now();
  }

  static fromMiBps(mibps: number, clock: Clock = realClock): TokenBucket {
    const rate = mibps * 1024 * 1024;
    // A quarter second of burst: smooth enough for a link, large enough that chunk-sized takes
    // rarely sleep for less than a timer's resolution.
    return new TokenBucket(rate, Math.max(rate / 4, 1024 * 1024), clock);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }

  /** Milliseconds a take of `bytes` would wait now (without taking). */
  delayFor(bytes: number): number {
    this.refill();
    const after = this.tokens - bytes;
    return after >= 0 ? 0 : (-after / this.bytesPerSecond) * 1000;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.bytesPerSecond) * 1000;
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (err) {
      // Not sent after all: give the bytes back to the others.
      this.tokens += bytes;
      throw err;
    }
  }
}

/** Progress accounting: bytes per second over the transfer so far, and a throttle for reports. */
export class RateMeter {
  private readonly start: number;
  private lastReport = -Infinity;
  constructor(
    private readonly clock: Clock,
    private readonly minIntervalMs: number,
  ) {
    this.start = clock.now();
  }
  rateBps(bytes: number): number {
    const s = (this.clock.now() - this.start) / 1000;
    return s > 0 ? Math.round(bytes / s) : 0;
  }
  /** true at most once per `minIntervalMs` (the first call is always true) */
  due(): boolean {
    const now = this.clock.now();
    if (now - this.lastReport < this.minIntervalMs) return false;
    this.lastReport = now;
    return true;
  }
}
