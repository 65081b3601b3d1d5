// The one place where commands are registered (order = order in `brine --help`).
import type { CliContext, Program } from '../context.js';
import { register as sites } from './sites.js';
import { register as submit } from './submit.js';
import { register as ls } from './ls.js';
import { register as show } from './show.js';
import { register as cancel } from './cancel.js';
import { register as watch } from './watch.js';
import { register as logs } from './logs.js';
import { register as output } from './output.js';
import { register as addresses } from './addresses.js';
import { register as snapshots } from './snapshots.js';
import { register as migrate } from './migrate.js';
import { register as site } from './site.js';
import { register as ca } from './ca.js';

export type Register = (program: Program, ctx: CliContext) => void;

const COMMANDS: Register[] = [sites, submit, ls, show, cancel, watch, logs, output, snapshots, migrate, addresses, site, ca];

export function registerCommands(program: Program, ctx: CliContext): void {
  for (const register of COMMANDS) register(program, ctx);
}
