// What the transfer code tells the agent's metrics (../metrics.ts), as a narrow interface so that
// the transfer machinery does not depend on a metrics library and tests can pass nothing.
import type { Priority } from './scheduler.js';

/** `in`: this agent is the destination (FetchSnapshot); `out`: the source (ReadChunks). */
export type Direction = 'in' | 'out';
export type TransferResult = 'ok' | 'failed' | 'cancelled';

export interface TransferMetrics {
  /** compressed bytes that crossed the link, as they travel */
  bytes(direction: Direction, priority: Priority, bytes: number): void;
  /** a fetch (in) or a served ReadChunks stream (out) ended after `seconds` of transferring */
  ended(direction: Direction, priority: Priority, result: TransferResult, bytes: number, seconds: number): void;
}

export const noTransferMetrics: TransferMetrics = { bytes: () => undefined, ended: () => undefined };
