import { expect } from 'chai';
import { canTransition, isEnded, noteReason, transition, type Transitionable } from '../../src/coordinator/job-state.js';
import { NotAllowedError } from '../../src/shared/errors.js';

describe('job state machine', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const job = (): Transitionable => ({ id: 'j1', state: 'PENDING', history: [{ at: now.toISOString(), state: 'PENDING', reason: 'submitted' }] });

  it('follows the lifecycle and records each transition with its reason', () => {
    const j = job();
    transition(j, 'DEPLOYING', 'placed on site-a', now);
    transition(j, 'RUNNING', 'running', now);
    transition(j, 'CHECKPOINTING', 'periodic', now);
    transition(j, 'RUNNING', 'checkpoint done', now);
    transition(j, 'SUSPENDING', 'user', now);
    transition(j, 'SUSPENDED', 'stopped', now);
    transition(j, 'RESUMING', 'user', now);
    transition(j, 'RUNNING', 'resumed', now);
    transition(j, 'COMPLETED', 'all VMs off', now);
    expect(j.history.map((h) => h.state)).to.deep.equal([
      'PENDING', 'DEPLOYING', 'RUNNING', 'CHECKPOINTING', 'RUNNING', 'SUSPENDING', 'SUSPENDED', 'RESUMING', 'RUNNING', 'COMPLETED',
    ]);
    expect(j.history[1]).to.deep.equal({ at: now.toISOString(), state: 'DEPLOYING', reason: 'placed on site-a' });
  });

  it('refuses illegal transitions and leaves the job untouched', () => {
    const j = job();
    expect(() => transition(j, 'RUNNING', 'x', now)).to.throw(NotAllowedError, /PENDING: cannot go to RUNNING/);
    expect(j.state).to.equal('PENDING');
    expect(j.history).to.have.length(1);
  });

  it('end states are final', () => {
    for (const end of ['COMPLETED', 'FAILED', 'CANCELLED'] as const) {
      expect(isEnded(end)).to.equal(true);
      for (const to of ['PENDING', 'RUNNING', 'CANCELLED'] as const) expect(canTransition(end, to)).to.equal(false);
    }
    expect(isEnded('SUSPENDED')).to.equal(false);
  });

  it('notes a new reason for waiting once per change', () => {
    const j = job();
    expect(noteReason(j, 'no site has room', now)).to.equal(true);
    expect(noteReason(j, 'no site has room', now)).to.equal(false);
    expect(noteReason(j, 'site-a is DOWN', now)).to.equal(true);
    expect(j.history.map((h) => h.reason)).to.deep.equal(['submitted', 'no site has room', 'site-a is DOWN']);
  });
});
