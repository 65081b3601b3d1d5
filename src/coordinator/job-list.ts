// `ListJobs` (issue 10.2): one page of jobs, oldest first (by creation time, then id), live jobs
// only unless `all` or a `states` filter naming an end state, optionally only those created within
// `since`. The page token is opaque to callers: the (createdAt, id) of the last job sent, checked
// on the way back in. Every filter is validated here, on the server, naming the field.
import { parseJsonAs } from '../shared/json.js';
import { z } from 'zod';
import { InvalidArgumentError } from '../shared/errors.js';
import { parseDurationMs } from '../shared/units.js';
import { JobState } from '../gen/brine/v1/JobState.js';
import { END_STATES, type JobStateName } from './job-state.js';
import { quote } from './limits.js';

export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 5000;

export interface ListJobsQuery {
  pageSize: number;
  pageToken: string;
  all: boolean;
  states: string[];
  since: string;
}

export interface Listable {
  id: string;
  createdAt: string;
  state: JobStateName;
}

/** Where the jobs come from (the store): live ones, and ended ones still kept. */
export interface JobSource<J extends Listable> {
  liveJobs(): Iterable<J>;
  archivedJobs(): Iterable<J>;
}

const tokenSchema = z.strictObject({ c: z.string(), i: z.string() });

function encodeToken(j: Listable): string {
  return Buffer.from(JSON.stringify({ c: j.createdAt, i: j.id })).toString('base64url');
}

function decodeToken(token: string): { c: string; i: string } {
  const checked = parseJsonAs(tokenSchema, Buffer.from(token, 'base64url').toString('utf8'));
  if (!checked.ok) throw new InvalidArgumentError('pageToken', `"${quote(token)}" is not a page token from a previous answer`);
  return checked.data;
}

const STATE_NAMES = new Set<string>(Object.values(JobState).filter((s) => s !== 'JOB_STATE_UNSPECIFIED'));

const before = (a: Listable, b: { c: string; i: string }): boolean => a.createdAt < b.c || (a.createdAt === b.c && a.id <= b.i);

/** A page also ends before its jobs' encoded size passes this (gRPC's default limit is 4 MiB). */
export const MAX_PAGE_BYTES = 3 * 1024 * 1024;

export function listJobs<J extends Listable>(
  source: JobSource<J>,
  q: ListJobsQuery,
  now: Date,
  visible: (j: J) => boolean = () => true,
  sizeOf?: (j: J) => number,
): { jobs: J[]; nextPageToken: string } {
  if (!Number.isInteger(q.pageSize) || q.pageSize < 0 || q.pageSize > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError('pageSize', `must be a whole number from 1 to ${MAX_PAGE_SIZE} (0: ${DEFAULT_PAGE_SIZE}), got ${q.pageSize}`);
  }
  const size = q.pageSize || DEFAULT_PAGE_SIZE;
  for (const s of q.states) {
    if (!STATE_NAMES.has(s)) throw new InvalidArgumentError('states', `unknown state "${quote(s)}" (known: ${[...STATE_NAMES].join(', ')})`);
  }
  const states = new Set(q.states);
  let after = '';
  if (q.since) after = new Date(now.getTime() - parseDurationMs(q.since, 'since')).toISOString();
  const from = q.pageToken ? decodeToken(q.pageToken) : undefined;
  const withEnded = q.all || [...states].some((s) => END_STATES.has(s as JobStateName));
  const keep = (j: J): boolean => (states.size === 0 || states.has(j.state)) && (!after || j.createdAt >= after) && (!from || !before(j, from)) && visible(j);
  const out: J[] = [];
  for (const j of source.liveJobs()) if (keep(j)) out.push(j);
  if (withEnded) for (const j of source.archivedJobs()) if (keep(j)) out.push(j);
  out.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.createdAt < b.createdAt ? -1 : 1));
  let page = out.slice(0, size);
  if (sizeOf) {
    let bytes = 0;
    const fit = page.findIndex((j) => (bytes += sizeOf(j)) > MAX_PAGE_BYTES);
    if (fit >= 0) page = page.slice(0, Math.max(1, fit));
  }
  const last = page.at(-1);
  return { jobs: page, nextPageToken: out.length > page.length && last ? encodeToken(last) : '' };
}
