// A task run every interval, one run at a time (the next one is scheduled when the last ends),
// stopped cleanly: `stop` waits for a run under way.
import type { Logger } from '../src/shared/logger.js';

export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly once: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  get started(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    const next = (): void => {
      this.timer = setTimeout(() => {
        this.running = this.once()
          .then(() => undefined)
          .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, `${this.what} failed`))
          .finally(() => {
            this.running = null;
            if (this.timer) next();
          });
      }, this.intervalMs);
    };
    next();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
