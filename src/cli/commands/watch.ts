// `brine watch [JOB]`: live events until Ctrl-C (exit 0) or the stream ends; exit 5 when the
// coordinator goes away.
import type { BrineEvent } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { cell, printJsonLine, say } from '../output.js';
import { untilInterrupted } from '../interrupt.js';

/** `<at> <type> <job> <state> <reason>`; VM events name `job/vm`, site events the site. */
export function eventLine(e: BrineEvent): string {
  const subject = e.job ? (e.vm ? `${e.job}/${e.vm}` : e.job) : e.site;
  const state = e.state === 'JOB_STATE_UNSPECIFIED' ? '' : e.state;
  return [cell(e.at), cell(e.type).padEnd(10), cell(subject).padEnd(12), cell(state).padEnd(13), e.reason]
    .join(' ')
    .trimEnd();
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('watch')
    .description('print live events (of one job, or of the whole grid) until interrupted')
    .argument('[job]', 'only this job')
    .action(async (job) => {
      ctx.jsonLines = true;
      const client = await ctx.client();
      const stream = client.watch(job ?? '', (event) => {
        if (ctx.json) printJsonLine(event);
        else say(eventLine(event));
      });
      // Ctrl-C is how a watch normally ends: stop cleanly and exit 0
      await untilInterrupted(stream);
    });
}
