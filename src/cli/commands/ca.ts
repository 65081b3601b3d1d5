// `brine ca init [--dir D]` and `brine ca issue site|user|admin|coordinator NAME [--dir D]`: the
// grid CA and the certificates of the coordinator, the sites and the users (README, Security).
// Local files only: no coordinator is contacted.
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../../shared/errors.js';
import type { Role } from '../../shared/tls.js';
import { parsePositiveInt, type CliContext, type Program } from '../context.js';
import { printJson, say } from '../output.js';

const DEFAULT_DIR = '.brine/ca';
const ISSUABLE: readonly Role[] = ['site', 'user', 'admin', 'coordinator'];

export function register(program: Program, ctx: CliContext): void {
  const ca = program.command('ca').description("the grid's certificate authority: make it, issue certificates");

  ca.command('init')
    .description('make a new grid CA (ca.crt, ca.key) in --dir')
    .option('--dir <dir>', `where the CA lives (default: ${DEFAULT_DIR})`)
    .option('--days <n>', 'validity in days (default: 3650)')
    .action(async (opts) => {
      const days = opts.days === undefined ? undefined : parsePositiveInt(opts.days, '--days');
      const { initCa } = await import('../../shared/ca.js');
      const files = await initCa(resolve(opts.dir ?? DEFAULT_DIR), days === undefined ? {} : { days });
      if (ctx.json) printJson(files);
      else say(`grid CA: ${files.cert} (keep ${files.key} secret)`);
    });

  ca.command('issue')
    .description('sign a certificate naming NAME with ROLE (site, user, admin or coordinator)')
    .argument('<role>', 'site | user | admin | coordinator')
    .argument('<name>', 'the site name, the user name, or the coordinator name')
    .option('--dir <dir>', `the CA's dir (default: ${DEFAULT_DIR})`)
    .option('--out <dir>', "where to write ROLE-NAME.crt and .key (default: the CA's dir)")
    .option('--days <n>', 'validity in days (default: 365)')
    .action(async (role, name, opts) => {
      const r = ISSUABLE.find((x) => x === role);
      if (!r) throw new InvalidArgumentError('role', `expected site, user, admin or coordinator, got "${role.slice(0, 100)}"`);
      const days = opts.days === undefined ? undefined : parsePositiveInt(opts.days, '--days');
      const { issue } = await import('../../shared/ca.js');
      const files = await issue(resolve(opts.dir ?? DEFAULT_DIR), r, name, {
        ...(days === undefined ? {} : { days }),
        ...(opts.out === undefined ? {} : { outDir: resolve(opts.out) }),
      });
      if (ctx.json) printJson({ role: r, name, ...files });
      else say(`${r} ${name}: ${files.cert}, key ${files.key}`);
    });
}
