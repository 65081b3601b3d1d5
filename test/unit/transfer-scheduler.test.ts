// Transfer scheduling (site-agent/transfer/scheduler.ts) on a fake clock: priorities, the
// concurrency cap, yielding to urgent transfers, and the shared bandwidth bucket over time.
import { expect } from 'chai';
import { AbortedError, RateMeter, TokenBucket, TransferScheduler, type Clock } from '../../site-agent/transfer/scheduler.js';

const MiB = 1024 * 1024;

/** A clock that moves only when told; sleepers wake in time order. */
class FakeClock implements Clock {
  t = 0;
  private sleepers: Array<{ at: number; wake: () => void }> = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = { at: this.t + ms, wake: resolve };
      this.sleepers.push(s);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(new AbortedError('sleep'));
      });
    });
  }
  /** Advances in small steps, letting woken promises run between steps. */
  async advance(ms: number, step = 10): Promise<void> {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + step);
      const due = this.sleepers.filter((s) => s.at <= this.t);
      this.sleepers = this.sleepers.filter((s) => s.at > this.t);
      for (const s of due) s.wake();
      await flush();
    }
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('transfer scheduler', () => {
  it('never runs more than maxConcurrent, and serves the queue in order', async () => {
    const s = new TransferScheduler(2);
    const order: string[] = [];
    const a = await s.acquire('background', 'a');
    const b = await s.acquire('background', 'b');
    const pc = s.acquire('background', 'c').then((x) => (order.push('c'), x));
    const pd = s.acquire('background', 'd').then((x) => (order.push('d'), x));
    await flush();
    expect(s.state().running).to.have.length(2);
    expect(order).to.deep.equal([]);
    a.release();
    await flush();
    expect(order).to.deep.equal(['c']);
    expect(s.state().running.map((r) => r.label).sort()).to.deep.equal(['b', 'c']);
    b.release();
    b.release(); // a second release is ignored (does not free another slot)
    await flush();
    expect(order).to.deep.equal(['c', 'd']);
    (await pc).release();
    (await pd).release();
    expect(s.state()).to.deep.equal({ running: [], queued: [] });
  });

  it('starts a queued urgent transfer before queued background ones', async () => {
    const s = new TransferScheduler(1);
    const first = await s.acquire('background', 'bg0');
    const order: string[] = [];
    const grants = new Map([
      ['bg1', s.acquire('background', 'bg1').then((x) => (order.push('bg1'), x))],
      ['bg2', s.acquire('background', 'bg2').then((x) => (order.push('bg2'), x))],
      ['u1', s.acquire('urgent', 'u1').then((x) => (order.push('u1'), x))],
    ]);
    await flush();
    expect(s.state().queued.map((q) => q.label)).to.deep.equal(['u1', 'bg1', 'bg2']);
    // the running background transfer is asked to yield while an urgent one waits
    expect(first.shouldYield()).to.equal(true);
    first.release();
    for (let i = 0; i < 3; i++) {
      await flush();
      expect(order).to.have.length(i + 1);
      expect(s.state().running).to.have.length(1);
      const slot = await grants.get(order[i] as string);
      expect(slot?.shouldYield()).to.equal(false);
      slot?.release();
    }
    expect(order).to.deep.equal(['u1', 'bg1', 'bg2']);
  });

  it('a background transfer that yields keeps its turn ahead of the other background ones', async () => {
    const s = new TransferScheduler(1);
    const bg = await s.acquire('background', 'bg');
    const later = s.acquire('background', 'later');
    const urgent = s.acquire('urgent', 'u');
    await flush();
    expect(bg.shouldYield()).to.equal(true);
    bg.release();
    const again = s.acquire('background', 'bg', undefined, true);
    await flush();
    expect(s.state().queued.map((q) => q.label)).to.deep.equal(['bg', 'later']);
    (await urgent).release();
    await flush();
    expect(s.state().running.map((r) => r.label)).to.deep.equal(['bg']);
    (await again).release();
    (await later).release();
  });

  it('promotes a queued background transfer to urgent', async () => {
    const s = new TransferScheduler(1);
    const run = await s.acquire('background', 'x');
    const p1 = s.acquire('background', 'a');
    const p2 = s.acquire('background', 'b');
    s.promote('b');
    expect(s.state().queued).to.deep.equal([{ label: 'b', priority: 'urgent' }, { label: 'a', priority: 'background' }]);
    run.release();
    (await p2).release();
    (await p1).release();
  });

  it('a cancelled waiter leaves the queue', async () => {
    const s = new TransferScheduler(1);
    const run = await s.acquire('urgent', 'x');
    const ac = new AbortController();
    const p = s.acquire('urgent', 'y', ac.signal);
    ac.abort();
    let err: unknown;
    await p.catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(AbortedError);
    expect(s.state().queued).to.deep.equal([]);
    run.release();
    expect(s.state().running).to.deep.equal([]);
  });
});

describe('transfer bandwidth (token bucket, fake clock)', () => {
  it('holds the long-run rate: 20 MiB at 4 MiB/s take ~4.75 s after a 1 MiB burst', async () => {
    const clock = new FakeClock();
    const bucket = TokenBucket.fromMiBps(4, clock); // burst: max(1 MiB, rate/4) = 1 MiB
    let taken = 0;
    let doneAt = -1;
    void (async () => {
      for (let i = 0; i < 320; i++) {
        await bucket.take(64 * 1024);
        taken += 64 * 1024;
      }
      doneAt = clock.now();
    })();
    await flush();
    // The burst passes at once, then the rate holds at every point in time.
    for (let t = 1000; t <= 6000; t += 1000) {
      await clock.advance(1000);
      expect(taken).to.be.at.most(1 * MiB + (t / 1000) * 4 * MiB + 64 * 1024);
      if (doneAt < 0) expect(taken).to.be.at.least((t / 1000) * 4 * MiB - 64 * 1024);
    }
    expect(doneAt).to.be.closeTo(((20 - 1) / 4) * 1000, 50);
  });

  it('is shared: two transfers together get the configured rate, about half each', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10 * MiB, 0, clock);
    const got = [0, 0];
    let stop = false;
    const pump = async (i: number): Promise<void> => {
      while (!stop) {
        await bucket.take(128 * 1024);
        got[i] = (got[i] ?? 0) + 128 * 1024;
      }
    };
    void pump(0);
    void pump(1);
    await clock.advance(5000);
    stop = true;
    const total = (got[0] ?? 0) + (got[1] ?? 0);
    expect(total / MiB).to.be.closeTo(50, 1);
    expect((got[0] ?? 0) / total).to.be.closeTo(0.5, 0.05);
  });

  it('an aborted take gives its bytes back', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1 * MiB, 0, clock);
    const ac = new AbortController();
    const p = bucket.take(4 * MiB, ac.signal).catch((e: unknown) => e);
    ac.abort();
    expect(await p).to.be.instanceOf(AbortedError);
    expect(bucket.delayFor(1 * MiB)).to.be.closeTo(1000, 1);
  });

  it('reports progress at most every interval', async () => {
    const clock = new FakeClock();
    const m = new RateMeter(clock, 250);
    let reports = 0;
    for (let i = 0; i < 100; i++) {
      if (m.due()) reports++;
      await clock.advance(10);
    }
    expect(reports).to.equal(4); // 1 s: t=0, 250, 500, 750
    expect(m.rateBps(2 * MiB)).to.equal(2 * MiB);
  });
});
