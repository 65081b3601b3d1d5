// The grid's id and this coordinator's epoch (issue 11.4). The id is made when a grid begins (the
// first start on a fresh data dir, or `--init`), kept in the state's meta and in `<dataDir>/grid-id`
// (a marker that outlives a lost state: a data dir that held a grid and now holds no state is
// refused unless `--init` says to begin a new grid). The epoch is incremented at every start and
// committed before the coordinator serves; agents refuse calls from another grid or an older epoch.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { StateFileError } from './journal.js';
import { writeAtomically } from './file-backend.js';
import type { StateMeta } from './state-types.js';

export interface GridIdentity {
  gridId: string;
  epoch: number;
}

/** What identity needs from the store. */
export type IdentityStore = {
  readonly meta: StateMeta | undefined;
  /** the data dir held a state (snapshots or journal records) when it was opened */
  readonly hadState: boolean;
  setMeta(meta: StateMeta): void;
  commit(): Promise<void>;
};

export const MARKER = 'grid-id';

async function readMarker(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dataDir, MARKER), 'utf8')).trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeMarker(dataDir: string, gridId: string): Promise<void> {
  await writeAtomically(join(dataDir, MARKER), [`${gridId}\n`]);
}

/** The pure decision: which grid this start serves, or why it must not start. */
export function decideIdentity(
  input: { hadState: boolean; meta: StateMeta | undefined; marker: string | undefined; init: boolean; dataDir: string },
  newId: () => string,
): GridIdentity & { created: boolean } {
  const { hadState, meta, marker, init, dataDir } = input;
  if (hadState) {
    const gridId = meta?.gridId ?? marker;
    if (init) {
      throw new StateFileError(dataDir, `holds the state of grid ${gridId ?? '(no id yet)'}; --init begins a new grid only on a data dir without state`, 'start without --init to carry on with this grid, or move the data dir away first');
    }
    if (meta && marker && meta.gridId !== marker) {
      throw new StateFileError(join(dataDir, MARKER), `names grid ${marker} but the state is grid ${meta.gridId}`, 'the state and the marker come from different grids: restore the matching pair from a backup');
    }
    // a state from before grid ids: it is the grid it always was, it gets its id now
    return { gridId: gridId ?? newId(), epoch: (meta?.epoch ?? 0) + 1, created: !gridId };
  }
  if (marker && !init) {
    throw new StateFileError(
      dataDir,
      `held the state of grid ${marker} (${MARKER}) and now holds none (no state.json, archive.json or journal)`,
      'restore the state from a backup; or start with --init to begin a new, empty grid (the agents of the old grid will refuse it and keep their clusters)',
    );
  }
  return { gridId: newId(), epoch: 1, created: true };
}

/** Decides and durably records this start's grid id and epoch, before anything is served. */
export async function establishIdentity(dataDir: string, store: IdentityStore, options: { init: boolean; log: Logger }): Promise<GridIdentity> {
  const marker = await readMarker(dataDir);
  const id = decideIdentity({ hadState: store.hadState, meta: store.meta, marker, init: options.init, dataDir }, randomUUID);
  store.setMeta({ gridId: id.gridId, epoch: id.epoch });
  await store.commit();
  // after the state: a crash in between leaves a state with its id, and the marker is written next start
  if (marker !== id.gridId) await writeMarker(dataDir, id.gridId);
  if (id.created) options.log.info({ grid: id.gridId, dataDir }, 'a new grid begins');
  options.log.info({ grid: id.gridId, epoch: id.epoch }, 'grid identity');
  return { gridId: id.gridId, epoch: id.epoch };
}
