// `brine output JOB [--vm V] -o DIR`: copies the files of an ended job's output disks into
// DIR/<vm>/…, streamed piece by piece (never whole in memory), each file written under a
// temporary name and renamed once complete, so an interrupted copy leaves no half file.
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { InvalidArgumentError } from '../../shared/errors.js';
import { formatBytes } from '../../shared/units.js';
import type { CliContext, Program } from '../context.js';
import { createProgress, printJson, say, type Progress } from '../output.js';
import { untilInterrupted } from '../interrupt.js';

const PART = '.brine-part';

/** The local path of a file the coordinator named, inside `root`; refuses anything that would leave it. */
export function localPath(root: string, vm: string, path: string): string {
  const parts = path.split('/');
  const bad = (p: string): boolean => p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\');
  if (bad(vm) || vm.includes('/') || parts.some(bad)) throw new InvalidArgumentError('path', `the coordinator sent an unsafe file name "${vm}/${path}"`);
  const out = resolve(root, vm, ...parts);
  if (!out.startsWith(resolve(root) + sep)) throw new InvalidArgumentError('path', `"${vm}/${path}" is outside ${root}`);
  return out;
}

interface Open {
  key: string;
  final: string;
  fh: FileHandle;
  size: number;
  written: number;
  bar: Progress;
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('output')
    .description("copy the files of an ended job's output disks (submit --output-disk) into DIR/<vm>/")
    .argument('<job>', 'job id')
    .option('--vm <name>', 'only this VM')
    .requiredOption('-o, --out <dir>', 'directory to copy into (created if missing)')
    .action(async (job, opts) => {
      const root = resolve(opts.out);
      await mkdir(root, { recursive: true });
      const client = await ctx.client();
      const state: { current: Open | undefined } = { current: undefined };
      // DESIGN: `--json` prints one document, `{files[]}`, once the copy is complete
      const copied: Array<{ vm: string; path: string; bytes: number; file: string }> = [];
      let bytes = 0;
      const finish = async (o: Open): Promise<void> => {
        await o.fh.close();
        await rename(o.final + PART, o.final);
        o.bar.stop();
        bytes += o.size;
        copied.push({ vm: o.key.slice(0, o.key.indexOf('/')), path: o.key.slice(o.key.indexOf('/') + 1), bytes: o.size, file: o.final });
      };
      const stream = client.output(job, opts.vm ?? '', async (c) => {
        const key = `${c.vm}/${c.path}`;
        const open_ = state.current;
        if (open_ && open_.key !== key) throw new InvalidArgumentError('path', `the coordinator started ${key} before ${open_.key} was complete`);
        if (!open_) {
          const final = localPath(root, c.vm, c.path);
          await mkdir(dirname(final), { recursive: true });
          const fh = await open(final + PART, 'w', c.mode & 0o777);
          state.current = { key, final, fh, size: Number(c.size), written: 0, bar: await createProgress(`${key}`, Math.max(1, Number(c.size)), { json: ctx.json, bytes: true }) };
        }
        const o = state.current as Open;
        if (Number(c.offset) !== o.written) throw new InvalidArgumentError('offset', `${key}: a piece at ${c.offset}, expected ${o.written}`);
        if (c.data.length > 0) await o.fh.write(c.data, 0, c.data.length, o.written);
        o.written += c.data.length;
        o.bar.update(o.written);
        if (o.written >= o.size) {
          state.current = undefined;
          await finish(o);
        }
      });
      let cut: string | undefined;
      try {
        await untilInterrupted(stream);
      } finally {
        const o = state.current;
        if (o) {
          // cut short: no half file stays behind
          cut = o.key;
          await o.fh.close();
          await rm(o.final + PART, { force: true });
          o.bar.stop();
        }
      }
      if (cut) throw new InvalidArgumentError('path', `the copy stopped in the middle of ${cut} (removed); run brine output again`);
      if (ctx.json) return printJson({ files: copied });
      const files = copied.length;
      say(`copied ${files} file${files === 1 ? '' : 's'} (${formatBytes(bytes)}) of job ${job} to ${root}`);
    });
}
