// Live events for `brine watch`: the coordinator publishes, each Watch stream subscribes.
import type { BrineEvent } from '../shared/proto.js';

/** Called with each event, and with null when the bus closes. */
export type Listener = (event: BrineEvent | null) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: Omit<Partial<BrineEvent>, 'at' | 'type'> & { type: string; at?: string }): void {
    const full: BrineEvent = {
      at: event.at ?? new Date().toISOString(),
      type: event.type,
      job: event.job ?? '',
      site: event.site ?? '',
      state: event.state ?? 'JOB_STATE_UNSPECIFIED',
      reason: event.reason ?? '',
      vm: event.vm ?? '',
      vmState: event.vmState ?? '',
      snapshot: event.snapshot ?? '',
      bytesDone: event.bytesDone ?? 0,
      bytesTotal: event.bytesTotal ?? 0,
      rateBps: event.rateBps ?? 0,
      etaMs: event.etaMs ?? -1,
    };
    for (const listener of this.listeners) listener(full);
  }

  /** Ends every subscription (the coordinator is stopping). */
  closeAll(): void {
    for (const listener of this.listeners) listener(null);
    this.listeners.clear();
  }

  get size(): number {
    return this.listeners.size;
  }
}
