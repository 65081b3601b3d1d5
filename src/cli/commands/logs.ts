// `brine logs JOB [--vm V] [-f]`: each VM's whole console, across every site the job ran on (its
// console travels in each snapshot); `-f` follows it live wherever the job runs now.
import type { CliContext, Program } from '../context.js';
import { printJsonLine } from '../output.js';
import { untilInterrupted } from '../interrupt.js';

/** Splits each VM's bytes into whole lines (the rest waits for its newline), per VM. */
export class LineSplitter {
  private readonly partial = new Map<string, string>();

  push(vm: string, text: string): string[] {
    const lines = ((this.partial.get(vm) ?? '') + text).split('\n');
    this.partial.set(vm, lines.pop() ?? '');
    return lines;
  }

  /** What is left without a final newline, per VM. */
  rest(): Array<[string, string]> {
    return [...this.partial].filter(([, t]) => t !== '');
  }
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('logs')
    .description("print each VM's console (its whole history, across every site the job ran on); -f follows it live")
    .argument('<job>', 'job id')
    .option('--vm <name>', 'only this VM')
    .option('-f, --follow', 'keep printing what the VMs print, wherever the job runs, until interrupted')
    .action(async (job, opts) => {
      ctx.jsonLines = true;
      const client = await ctx.client();
      const lines = new LineSplitter();
      // one VM asked for: its console as it is; all of them: each line prefixed with its VM
      const prefix = opts.vm === undefined;
      const print = (vm: string, site: string, line: string): void => {
        if (ctx.json) printJsonLine({ vm, site, line });
        else process.stdout.write(prefix ? `${vm} | ${line}\n` : `${line}\n`);
      };
      const stream = client.logs(job, opts.vm ?? '', opts.follow === true, (c) => {
        const text = Buffer.from(c.data).toString('utf8');
        if (!prefix && !ctx.json) return void process.stdout.write(text);
        for (const line of lines.push(c.vm, text)) print(c.vm, c.site, line);
      });
      try {
        await untilInterrupted(stream);
      } finally {
        for (const [vm, rest] of lines.rest()) print(vm, '', rest);
      }
    });
}
