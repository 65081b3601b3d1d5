// A progress bar for the snapshot transfer of a move (`migrate`, `resume --site`), fed by the
// job's `transfer.progress` events: only on a TTY and without --json (createProgress decides).
import type { BrineEvent } from '../shared/proto.js';
import type { CoordinatorClient } from './client.js';
import { formatBytes, formatEta } from '../shared/units.js';
import { createProgress, type Progress } from './output.js';

/**
 * Runs `fn` while showing the transfer progress of `job`'s snapshots to `to`: one bar per snapshot
 * (a move of a running job sends its pre-copy checkpoint, then the final snapshot).
 */
export async function withTransferProgress<T>(client: CoordinatorClient, job: string, to: string, json: boolean, fn: () => Promise<T>): Promise<T> {
  if (json || !process.stderr.isTTY) return fn();
  let bar: Promise<Progress> | undefined;
  let barOf = '';
  const onEvent = (e: BrineEvent): void => {
    if (e.type !== 'transfer.progress' || (to && e.site !== to)) return;
    if (bar && barOf !== e.snapshot) {
      void bar.then((b) => b.stop());
      bar = undefined;
    }
    barOf = e.snapshot;
    // nothing to send (every chunk already there) is a full bar, not 0 of 0
    const total = Math.max(1, e.bytesTotal);
    const done = e.bytesTotal === 0 ? total : e.bytesDone;
    bar ??= createProgress(`sending ${e.snapshot} to ${e.site}`, total, { json, bytes: true });
    const rate = e.rateBps > 0 ? `${formatBytes(e.rateBps)}/s` : '';
    const eta = e.etaMs > 0 ? `ETA ${formatEta(e.etaMs)}` : '';
    void bar.then((b) => b.update(done, total, [rate, eta].filter(Boolean).join(', ')));
  };
  const stream = client.watch(job, onEvent);
  // a broken watch only costs the bar, never the move
  stream.done.catch(() => undefined);
  try {
    await stream.subscribed;
    return await fn();
  } finally {
    stream.cancel();
    if (bar) (await bar).stop();
  }
}
