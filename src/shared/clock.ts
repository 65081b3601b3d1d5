// Time at the edges: the wall clock and the timers, behind interfaces so that the coordinator's
// policies (liveness, failover, checkpoints, preemption deadlines) run in unit tests on a manual
// clock, without sleeps.

export interface Clock {
  now(): Date;
}

/** An opaque timer handle: whatever the Timers implementation returns. */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** runs `fn` after the current turn of the event loop (Node's setImmediate) */
  soon(fn: () => void): void;
}

export const systemClock: Clock = { now: () => new Date() };

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    // a daemon's housekeeping must not keep a process alive that is otherwise done
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  soon: (fn) => {
    setImmediate(fn);
  },
};

/** Resolves after `ms` on the given timers. */
export function sleep(timers: Pick<Timers, 'setTimeout'>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}
