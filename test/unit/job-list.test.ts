import { expect } from 'chai';
import { listJobs, type JobSource, type Listable } from '../../src/coordinator/job-list.js';
import { compactHistory, HISTORY_MAX } from '../../src/coordinator/history.js';
import { expired } from '../../src/coordinator/retention.js';
import type { HistoryEntry, JobStateName } from '../../src/coordinator/job-state.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';

const NOW = new Date('2026-01-10T00:00:00.000Z');

function jobs(n: number, state: JobStateName, start: number): Listable[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${state[0]}${String(i).padStart(5, '0')}`, state, createdAt: new Date(start + i * 60_000).toISOString() }));
}

describe('ListJobs paging and filters', () => {
  const live = [...jobs(700, 'RUNNING', Date.parse('2026-01-09T00:00:00Z')), ...jobs(5, 'PENDING', Date.parse('2026-01-09T23:00:00Z'))];
  const ended = jobs(6000, 'COMPLETED', Date.parse('2026-01-01T00:00:00Z'));
  const source: JobSource<Listable> = { liveJobs: () => live, archivedJobs: () => ended };
  const q = { pageSize: 0, pageToken: '', all: false, states: [] as string[], since: '' };
  const pageAll = (query: typeof q): Listable[] => {
    const out: Listable[] = [];
    let token = '';
    do {
      const page = listJobs(source, { ...query, pageToken: token }, NOW);
      out.push(...page.jobs);
      token = page.nextPageToken;
    } while (token);
    return out;
  };

  it('shows live jobs by default, in pages of 500, oldest first, each once', () => {
    const first = listJobs(source, q, NOW);
    expect(first.jobs).to.have.length(500);
    expect(first.nextPageToken).to.not.equal('');
    const all = pageAll(q);
    expect(all).to.have.length(705);
    expect(new Set(all.map((j) => j.id)).size).to.equal(705);
    expect(all.map((j) => j.createdAt)).to.deep.equal([...all.map((j) => j.createdAt)].sort());
  });

  it('--all adds the ended jobs; --state and --since filter', () => {
    expect(pageAll({ ...q, all: true })).to.have.length(6705);
    expect(pageAll({ ...q, states: ['PENDING'] }).map((j) => j.state)).to.deep.equal(Array(5).fill('PENDING'));
    expect(pageAll({ ...q, states: ['COMPLETED'] })).to.have.length(6000);
    expect(pageAll({ ...q, since: '2h' })).to.have.length(5);
  });

  it('refuses bad filters, naming the field', () => {
    const field = (query: Partial<typeof q>): string | undefined => {
      try {
        listJobs(source, { ...q, ...query }, NOW);
        return undefined;
      } catch (err) {
        expect(err).to.be.instanceOf(InvalidArgumentError);
        return (err as InvalidArgumentError).field;
      }
    };
    expect(field({ pageSize: -1 })).to.equal('pageSize');
    expect(field({ pageSize: 5001 })).to.equal('pageSize');
    expect(field({ states: ['DANCING'] })).to.equal('states');
    expect(field({ since: 'soon' })).to.equal('since');
    expect(field({ pageToken: 'garbage' })).to.equal('pageToken');
  });
});

describe('job history compaction', () => {
  const at = (i: number): string => new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000).toISOString();
  function apply(h: HistoryEntry[], e: HistoryEntry): HistoryEntry[] {
    h.push(e);
    return compactHistory(h) ?? h;
  }

  it('summarises repeated checkpoint lines, keeping the latest one as it was', () => {
    let h: HistoryEntry[] = [
      { at: at(0), state: 'PENDING', reason: 'submitted by alice' },
      { at: at(1), state: 'DEPLOYING', reason: 'placed on site-a' },
      { at: at(2), state: 'RUNNING', reason: 'running on site-a' },
    ];
    for (let i = 0; i < 1000; i++) {
      h = apply(h, { at: at(10 + 2 * i), state: 'CHECKPOINTING', reason: `checkpoint s${i}: periodic` });
      h = apply(h, { at: at(11 + 2 * i), state: 'RUNNING', reason: `checkpoint done (periodic); snapshot s${i}: 1 MiB` });
    }
    expect(h).to.have.length(6);
    expect(h[3]?.reason).to.match(/^checkpoints: 999 taken from /);
    expect(h.slice(-2).map((e) => e.reason)).to.deep.equal(['checkpoint s999: periodic', 'checkpoint done (periodic); snapshot s999: 1 MiB']);
  });

  it('stays bounded whatever is appended, keeping the first lines and the latest', () => {
    let h: HistoryEntry[] = [{ at: at(0), state: 'PENDING', reason: 'submitted' }];
    for (let i = 1; i < 500; i++) h = apply(h, { at: at(i), state: 'PENDING', reason: `waiting: reason ${i}` });
    expect(h.length).to.equal(HISTORY_MAX);
    expect(h[0]?.reason).to.equal('submitted');
    expect(h[4]?.reason).to.match(/^… \d+ earlier entries dropped/);
    expect(h.at(-1)?.reason).to.equal('waiting: reason 499');
    const dropped = Number(/^… (\d+)/.exec(h[4]?.reason ?? '')?.[1]);
    expect(dropped + h.length - 1).to.equal(500);
  });
});

describe('retention of ended jobs', () => {
  it('collects the archived jobs ended longer ago than keepEndedFor', () => {
    const job = (id: string, endedAt: string): JobRecord => ({ id, createdAt: endedAt, history: [{ at: endedAt, state: 'COMPLETED', reason: 'x' }] }) as unknown as JobRecord;
    const now = Date.parse('2026-01-10T00:00:00Z');
    const ids = expired([job('old', '2026-01-01T00:00:00Z'), job('new', '2026-01-09T00:00:00Z')], 7 * 86_400_000, now);
    expect(ids).to.deep.equal(['old']);
  });
});
