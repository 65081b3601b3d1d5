// Which grid this agent belongs to (issue 11.4), remembered in `<dataDir>/grid.json`: the grid id
// of the first coordinator it registered with, and the highest coordinator epoch it has seen.
// Only that grid's coordinator, at that epoch or a newer one, may destroy or fence here; a
// coordinator of another grid (a new one started with --init over a lost state) is refused and the
// clusters stay. Clusters a coordinator of this grid does not know at all are kept too, and
// reported (GetStatus `keptJobs`).
import { parseJsonAs } from '../src/shared/json.js';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { BrineError } from '../src/shared/errors.js';
import { EPOCH_KEY, GRID_ID_KEY } from '../src/shared/grid.js';


const fileSchema = z.strictObject({ gridId: z.string().min(1), epoch: z.number().int().nonnegative() });

export class GridMembership {
  private kept = new Set<string>();

  private constructor(
    private readonly file: string,
    private state: z.infer<typeof fileSchema> | undefined,
  ) {}

  static async load(dataDir: string): Promise<GridMembership> {
    const file = join(dataDir, 'grid.json');
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === undefined) return new GridMembership(file, undefined);
    const checked = parseJsonAs(fileSchema, text, 'the whole file');
    if (!checked.ok) {
      // never guess a grid: without one, a coordinator could claim this site and fence it
      throw new BrineError('FAILED_PRECONDITION', `${file} is not a valid grid membership ({gridId, epoch}: ${checked.problem}); restore it, or delete it to let this agent join whichever grid its coordinator serves`);
    }
    return new GridMembership(file, checked.data);
  }

  get gridId(): string {
    return this.state?.gridId ?? '';
  }

  get epoch(): number {
    return this.state?.epoch ?? 0;
  }

  /** Why a coordinator of `gridId` at `epoch` may not act here, or null. */
  refusal(gridId: string, epoch: number): string | null {
    if (!this.state) return null;
    if (gridId !== this.state.gridId) {
      return `this agent belongs to grid ${this.state.gridId}, not ${gridId || '(no grid id)'}: a coordinator of another grid (e.g. one started with --init over a lost state) may not act on its clusters; restore that grid's coordinator state, or delete ${this.file} on purpose to move this site to the new grid`;
    }
    if (epoch < this.state.epoch) return `coordinator epoch ${epoch} is older than ${this.state.epoch}, already seen: a newer coordinator of grid ${gridId} took over`;
    return null;
  }

  /** Joins the grid (first registration) or records a newer epoch; durable before it returns. */
  async accept(gridId: string, epoch: number): Promise<void> {
    const refusal = this.refusal(gridId, epoch);
    if (refusal) throw new BrineError('FAILED_PRECONDITION', refusal);
    if (this.state && this.state.epoch >= epoch) return;
    const next = { gridId, epoch };
    await mkdir(join(this.file, '..'), { recursive: true });
    const fh = await open(`${this.file}.tmp`, 'w');
    try {
      await fh.writeFile(JSON.stringify(next) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(`${this.file}.tmp`, this.file);
    this.state = next;
  }

  /** Checks a coordinator→agent call's metadata (throws FAILED_PRECONDITION). */
  checkCall(metadata: grpc.Metadata, method: string): void {
    if (!this.state) return;
    const gridId = metadata.get(GRID_ID_KEY)[0]?.toString() ?? '';
    const epoch = Number(metadata.get(EPOCH_KEY)[0]?.toString() ?? '0');
    if (!gridId) throw new BrineError('FAILED_PRECONDITION', `${method}: the call names no grid (${GRID_ID_KEY}); this agent belongs to grid ${this.state.gridId} and obeys only its coordinator`);
    const refusal = this.refusal(gridId, Number.isFinite(epoch) ? epoch : 0);
    if (refusal) throw new BrineError('FAILED_PRECONDITION', `${method}: ${refusal}`);
  }

  /** Clusters kept because the coordinator does not know their jobs. */
  setKept(jobs: Iterable<string>): void {
    this.kept = new Set(jobs);
  }

  get keptJobs(): string[] {
    return [...this.kept].sort();
  }
}
