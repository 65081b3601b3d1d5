// The one place where commands are registered (order = order in `brine --help`).
// Each module is imported only when needed: a batch scheduler's prolog runs `brine site reclaim`
// in a fresh process and should not load (parse, link) the other command modules.
import type { CliContext, Program } from '../context.js';

export type Register = (program: Program, ctx: CliContext) => void;

interface CommandModule {
  /** The top-level commands the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<{ register: Register }>;
}

const COMMANDS: readonly CommandModule[] = [
  { names: ['sites'], load: () => import('./sites.js') },
  { names: ['submit'], load: () => import('./submit.js') },
  { names: ['ls'], load: () => import('./ls.js') },
  { names: ['show'], load: () => import('./show.js') },
  { names: ['cancel'], load: () => import('./cancel.js') },
  { names: ['watch'], load: () => import('./watch.js') },
  { names: ['logs'], load: () => import('./logs.js') },
  { names: ['output'], load: () => import('./output.js') },
  { names: ['snapshot', 'snapshots', 'suspend', 'resume'], load: () => import('./snapshots.js') },
  { names: ['migrate'], load: () => import('./migrate.js') },
  { names: ['addresses'], load: () => import('./addresses.js') },
  { names: ['site'], load: () => import('./site.js') },
  { names: ['ca'], load: () => import('./ca.js') },
];

/**
 * The top-level command commander will dispatch `args` (argv without node and the script) to,
 * when only global options it knows precede it (they are then parsed the same whichever commands
 * exist). Anything else before it (--help, --version, `--`, an unknown option) gives undefined.
 */
export function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json' || arg.startsWith('--coordinator=')) continue;
    if (arg === '--coordinator') {
      i++; // its value, whatever it looks like (commander takes the next argument)
      continue;
    }
    return arg.length > 1 && arg.startsWith('-') ? undefined : arg;
  }
  return undefined;
}

/**
 * Registers the command `args` runs, or every command when that is not one known command
 * (help, no command, an unknown one: the root's help and suggestions need all of them).
 */
export async function registerCommands(program: Program, ctx: CliContext, args: readonly string[]): Promise<void> {
  const wanted = commandOf(args);
  const only = COMMANDS.filter((c) => wanted !== undefined && c.names.includes(wanted));
  const modules = await Promise.all((only.length ? only : COMMANDS).map((c) => c.load()));
  for (const m of modules) m.register(program, ctx);
}
