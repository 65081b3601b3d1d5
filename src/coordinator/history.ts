// A job's history stays bounded (issues 10.2, 11.5): runs of routine checkpoint lines (a
// `checkpoint …` then `checkpoint done …` pair per checkpoint) are summarised into one line, the
// latest checkpoint kept as it was; past HISTORY_MAX lines, the oldest after the first few are
// replaced by one line saying how many were dropped. Pure.
import type { HistoryEntry } from './job-state.js';

export const HISTORY_MAX = 50;
/** the first lines (submission, first placement) are always kept */
const HEAD = 4;

const SUMMARY = /^checkpoints: (\d+) taken from (\S+) to (\S+)/;
const DROPPED = /^… (\d+) earlier entries dropped/;

interface Unit {
  n: number;
  from: string;
  to: string;
  lines: number;
}

function unitAt(h: readonly HistoryEntry[], i: number): Unit | null {
  const e = h[i];
  if (!e) return null;
  const m = SUMMARY.exec(e.reason);
  if (m && e.state === 'RUNNING') return { n: Number(m[1]), from: m[2] as string, to: m[3] as string, lines: 1 };
  const next = h[i + 1];
  if (e.state === 'CHECKPOINTING' && /^checkpoint \S+: /.test(e.reason) && next?.state === 'RUNNING' && next.reason.startsWith('checkpoint done')) {
    return { n: 1, from: e.at, to: next.at, lines: 2 };
  }
  return null;
}

/** The compacted history, or null when it is fine as it is. */
export function compactHistory(h: readonly HistoryEntry[], max = HISTORY_MAX): HistoryEntry[] | null {
  const out: HistoryEntry[] = [];
  let changed = false;
  let i = 0;
  while (i < h.length) {
    const run: Unit[] = [];
    let j = i;
    for (let u = unitAt(h, j); u; u = unitAt(h, j)) {
      run.push(u);
      j += u.lines;
    }
    // the latest checkpoint stays as it was, for its figures
    const keepLast = run.length > 0 && j === h.length && (run.at(-1) as Unit).lines === 2;
    const collapse = keepLast ? run.slice(0, -1) : run;
    if (collapse.length >= 2) {
      const n = collapse.reduce((s, u) => s + u.n, 0);
      const from = (collapse[0] as Unit).from;
      const to = (collapse.at(-1) as Unit).to;
      out.push({ at: to, state: 'RUNNING', reason: `checkpoints: ${n} taken from ${from} to ${to} (routine lines summarised)` });
      changed = true;
      const skipped = collapse.reduce((s, u) => s + u.lines, 0);
      for (let k = i + skipped; k < j; k++) out.push(h[k] as HistoryEntry);
      i = j;
      continue;
    }
    if (run.length > 0) {
      for (let k = i; k < j; k++) out.push(h[k] as HistoryEntry);
      i = j;
      continue;
    }
    out.push(h[i] as HistoryEntry);
    i++;
  }
  if (out.length > max) {
    const tail = max - HEAD - 1;
    const dropped = out.slice(HEAD, out.length - tail);
    let count = 0;
    for (const d of dropped) {
      const m = DROPPED.exec(d.reason);
      count += m ? Number(m[1]) : 1;
    }
    const last = dropped.at(-1) as HistoryEntry;
    const marker: HistoryEntry = { at: last.at, state: last.state, reason: `… ${count} earlier entries dropped (a job's history is kept to ${max} lines)` };
    return [...out.slice(0, HEAD), marker, ...out.slice(out.length - tail)];
  }
  return changed ? out : null;
}
