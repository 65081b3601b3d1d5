// A clock and timers that move only when a unit test says so (fakes: unit tests only).
import type { Clock, TimerHandle, Timers } from '../../src/shared/clock.js';

export class ManualClock implements Clock {
  constructor(public ms = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
}

interface Pending {
  at: number;
  fn: () => void;
  every?: number;
}

/** One real event-loop turn: lets promise chains started by a step run to their next await. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualTimers implements Timers {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly soonQueue: Array<() => void> = [];
  /** every delay asked of setTimeout, in order (for tests of retry policies) */
  readonly delays: number[] = [];

  constructor(private readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    this.pending.set(++this.seq, { at: this.clock.ms + Math.max(0, ms), fn });
    return this.seq;
  }
  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    this.pending.set(++this.seq, { at: this.clock.ms + ms, fn, every: ms });
    return this.seq;
  }
  clearInterval(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }
  soon(fn: () => void): void {
    this.soonQueue.push(fn);
  }

  /** Says whether real I/O started by the code under test is still under way (e.g. a store commit). */
  busy: () => boolean = () => false;

  /**
   * Runs what `soon` queued and lets the promises it started settle (real I/O included, as `busy`
   * tells), until nothing is left to do. Manual time does not move meanwhile.
   */
  async flush(): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < 2000 && quiet < 3; i++) {
      await turn();
      const queued = this.soonQueue.splice(0);
      for (const fn of queued) fn();
      if (queued.length > 0 || this.busy()) {
        quiet = 0;
        if (this.busy()) await new Promise((resolve) => setTimeout(resolve, 1));
      } else {
        quiet++;
      }
    }
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number, step = 100): Promise<void> {
    const end = this.clock.ms + ms;
    while (this.clock.ms < end) {
      this.clock.ms = Math.min(end, this.clock.ms + step);
      for (;;) {
        const due = [...this.pending.entries()].filter(([, p]) => p.at <= this.clock.ms).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, p] = due;
        if (p.every) p.at += p.every;
        else this.pending.delete(id);
        p.fn();
        await this.flush();
      }
      await this.flush();
    }
  }
}
