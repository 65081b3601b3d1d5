// `brine`: the users' and operators' command line. Parses, runs one command against the
// coordinator, and maps every outcome to the exit codes of DESIGN.md's CLI contract.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { BrineError, exitCodeFor } from '../shared/errors.js';
import { checkAddress, CommandFailed, type CliContext } from './context.js';
import type { CoordinatorClient } from './client.js';
import { registerCommands } from './commands/index.js';
import { printError } from './output.js';

const DEFAULT_ADDRESS = '127.0.0.1:7700';

/** The repo/package root, found from this file (not the cwd) so `npx brine` works from anywhere. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'brine') return dir;
      } catch {
        // not ours or unreadable: keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function packageVersion(root: string | undefined): string {
  if (!root) return '0.0.0';
  try {
    const v = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `listen` of config/coordinator.yaml, made dialable (a wildcard bind address means this host). */
async function addressFromConfig(root: string | undefined): Promise<string | undefined> {
  if (!root) return undefined;
  const file = join(root, 'config', 'coordinator.yaml');
  if (!existsSync(file)) return undefined;
  try {
    const { parse } = await import('yaml');
    const listen = (parse(readFileSync(file, 'utf8')) as { listen?: unknown } | null)?.listen;
    if (typeof listen !== 'string') return undefined;
    const address = checkAddress(listen, 'listen');
    return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  } catch {
    // a broken server config is the coordinator's problem; the CLI falls back to the default
    return undefined;
  }
}

/** Commander's usage errors → INVALID_ARGUMENT naming the flag or argument, exit 2. */
function usageError(err: CommanderError, command: string | undefined): BrineError {
  const message = err.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ');
  const quoted = /'(-{1,2}[A-Za-z0-9][\w-]*|[\w-]+)/.exec(message)?.[1];
  const field = err.code === 'commander.unknownCommand' ? undefined : quoted;
  const hint = command ? `brine ${command} --help` : 'brine --help';
  return new BrineError('INVALID_ARGUMENT', `${message} (see ${hint})`, field ? { field } : {});
}

async function run(argv: string[]): Promise<number> {
  const root = packageRoot();
  const wantsJson = argv.slice(2, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
  let failingCommand: string | undefined;
  let client: Promise<CoordinatorClient> | undefined;
  let address: Promise<string> | undefined;

  const program = new Command('brine')
    .description('Run best-effort virtual clusters on the idle nodes of a grid.')
    .version(packageVersion(root), '-V, --version')
    .option('--coordinator <host:port>', `coordinator address, or a grid's coordinators comma-separated (env BRINE_COORDINATOR, else config/coordinator.yaml, else ${DEFAULT_ADDRESS})`)
    .option('--json', 'print exactly one JSON document on stdout (watch: one per line)')
    // throw instead of exiting, and print usage errors ourselves (one line, our prefix, exit 2)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);

  const resolveAddress = async (): Promise<string> => {
    const flag = program.opts().coordinator;
    if (flag !== undefined) return checkAddress(flag, '--coordinator');
    const env = process.env.BRINE_COORDINATOR;
    if (env) return checkAddress(env, 'BRINE_COORDINATOR');
    return (await addressFromConfig(root)) ?? DEFAULT_ADDRESS;
  };

  const ctx: CliContext = {
    get json() {
      return program.opts().json === true || wantsJson;
    },
    jsonLines: false,
    address: () => (address ??= resolveAddress()),
    client: () =>
      (client ??= (async () => {
        const [where, { CoordinatorClient }] = await Promise.all([ctx.address(), import('./client.js')]);
        return CoordinatorClient.firstReachable(where.split(','));
      })()),
  };

  await registerCommands(program, ctx, argv.slice(2));
  // remember which subcommand rejected its arguments, to point at its help
  for (const sub of program.commands) {
    sub.configureOutput({ outputError: () => (failingCommand = sub.name()) });
  }

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (raw) {
    let err: unknown = raw;
    if (raw instanceof CommanderError) {
      if (raw.exitCode === 0) return 0; // --help, --version, `brine help CMD`
      if (raw.code === 'commander.help') {
        // `brine` alone: the help went to stderr; it is a usage error
        err = new BrineError('INVALID_ARGUMENT', 'missing command (see brine --help)');
      } else {
        err = usageError(raw, failingCommand);
      }
    }
    printError(err, { json: ctx.json, jsonLines: ctx.jsonLines });
    return err instanceof CommandFailed ? err.exitCode : exitCodeFor(err);
  } finally {
    if (client) {
      try {
        (await client).close();
      } catch {
        // the client never came up: nothing to close
      }
    }
  }
}

/** Exits once stdout and stderr are flushed (gRPC may keep handles open briefly after close). */
function exit(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// `brine ls | head -1` closes our stdout early: that is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

run(process.argv).then(exit, (err: unknown) => {
  // a bug in the CLI itself: still one line and a code
  printError(err, { json: false });
  exit(1);
});
