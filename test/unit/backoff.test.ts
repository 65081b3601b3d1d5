import { expect } from 'chai';
import { retryDelayMs, RECLAIM_SUSPEND_BACKOFF } from '../../src/shared/backoff.js';

describe('retryDelayMs: a failing step is retried ever more slowly', () => {
  it('doubles from 1 s and stops at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((a) => retryDelayMs(a))).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it('jitter shortens by at most a fifth; attempts under 1 count as the first', () => {
    expect(retryDelayMs(3, RECLAIM_SUSPEND_BACKOFF, 0.5)).to.equal(3600);
    expect(retryDelayMs(3, RECLAIM_SUSPEND_BACKOFF, 5)).to.be.within(3200, 4000);
    expect(retryDelayMs(0)).to.equal(1000);
  });
});
