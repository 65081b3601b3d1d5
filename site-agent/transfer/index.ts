// Agent-to-agent snapshot transfers (issue 6): the destination pulls (fetch.ts), the source serves
// (source.ts), both under the site's limits (scheduler.ts). Bytes never pass through the coordinator.
import type { Logger } from '../../src/shared/logger.js';
import type { AgentServiceClient, AgentServiceHandlers } from '../../src/gen/brine/v1/AgentService.js';
import type { SnapshotStore } from '../snapshot-store/index.js';
import { fetchSnapshotHandler, SnapshotFetcher } from './fetch.js';
import { ChunkSource } from './source.js';
import type { Clock } from './scheduler.js';
import type { TransferMetrics } from './metrics-port.js';

export { SnapshotFetcher, fetchSnapshotHandler, type FetchInput, type FetchResult, type Progress, type TransferPhase } from './fetch.js';
export { ChunkSource } from './source.js';
export { TransferDataError } from './errors.js';
export { TransferScheduler, TokenBucket, RateMeter, AbortedError, realClock, type Clock, type Priority, type Slot } from './scheduler.js';
export { noTransferMetrics, type TransferMetrics, type Direction, type TransferResult } from './metrics-port.js';
export { TRANSFER_CLIENT_OPTIONS, TRANSFER_SERVER_OPTIONS, BATCH_CHUNKS, PRIORITY_METADATA } from './options.js';

export type TransferHandlers = Pick<AgentServiceHandlers, 'FetchSnapshot' | 'GetManifest' | 'ReadChunks'>;

export interface Transfers {
  fetcher: SnapshotFetcher;
  source: ChunkSource;
  handlers: TransferHandlers;
}

export interface TransfersOptions {
  store: SnapshotStore;
  /** the site's `transfer` config */
  transfer: { maxConcurrent: number; bandwidthMiBps: number };
  logger: Logger;
  clock?: Clock;
  /** dials a source agent (with the site's TLS credentials); default plaintext */
  connect?: (address: string) => AgentServiceClient;
  /** the agent's metrics (../metrics.ts) */
  metrics?: TransferMetrics;
}

/** The site's transfer machinery: one fetcher (destination) and one chunk source, sharing the config (each its own bucket). */
export function createTransfers(o: TransfersOptions): Transfers {
  const log = o.logger.child({ component: 'transfer' });
  const fetcher = new SnapshotFetcher({
    store: o.store,
    maxConcurrent: o.transfer.maxConcurrent,
    bandwidthMiBps: o.transfer.bandwidthMiBps,
    logger: log,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.connect ? { connect: o.connect } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  // One limit per direction: the fetcher's bucket charges what arrives, the source's what leaves.
  const source = new ChunkSource({
    store: o.store,
    maxConcurrent: o.transfer.maxConcurrent,
    bandwidthMiBps: o.transfer.bandwidthMiBps,
    logger: log,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  return {
    fetcher,
    source,
    handlers: {
      FetchSnapshot: fetchSnapshotHandler(fetcher, log),
      GetManifest: source.getManifest,
      ReadChunks: source.readChunks,
    },
  };
}
