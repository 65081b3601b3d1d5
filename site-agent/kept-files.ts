// What the agent keeps after a job ended (consoles for `brine logs`, output disks for `brine
// output`): one directory per job under a root, with an `expires` file; a sweep deletes those
// whose time is up. A directory without a readable expiry (a keep cut short) is deleted too.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';

/** Marks `dir` (one job's kept files) as kept until `untilMs`. */
export async function writeExpiry(dir: string, untilMs: number): Promise<void> {
  await writeFile(join(dir, 'expires'), new Date(untilMs).toISOString() + '\n');
}

/** Deletes the job directories under `root` whose expiry is at or before `now`; returns how many. */
export async function sweepExpired(root: string, now: number, log: Logger, what: string, skip: readonly string[] = []): Promise<number> {
  let jobs: string[];
  try {
    jobs = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const job of jobs) {
    if (skip.includes(job)) continue;
    const text = await readFile(join(root, job, 'expires'), 'utf8').catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ job, err: errorMessage(err) }, `cannot read the expiry of kept ${what}; deleting them`);
      return '';
    });
    const until = Date.parse(text.trim());
    if (Number.isFinite(until) && until > now) continue;
    await rm(join(root, job), { recursive: true, force: true });
    log.info({ job }, `kept ${what} expired and deleted`);
    removed++;
  }
  return removed;
}
