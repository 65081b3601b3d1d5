// What the coordinator's parts share. Each part takes a `Pick<CoordinatorContext, …>` of what it
// uses, so its dependencies are in its constructor's type and a unit test builds only those.
import type { Logger } from '../shared/logger.js';
import type { Clock, Timers } from '../shared/clock.js';
import type { AddressAllocator } from './address-allocator.js';
import type { AgentGateway } from './agents.js';
import type { CoordinatorConfig } from './config.js';
import type { EventBus } from './events.js';
import type { Ids } from './ids.js';
import type { Store } from './store.js';
import type { JobFlags } from './job-flags.js';
import type { JobIndex } from './job-index.js';
import type { GridState } from './grid-state.js';
import type { SnapshotCatalog } from './snapshot-catalog.js';
import type { SiteRegistry } from './site-registry.js';
import type { PlacementLoop } from './placement.js';
import type { Deployer } from './deployer.js';
import type { JobOperations } from './operations.js';
import type { MoveExecutor } from './move-executor.js';
import type { Transfers } from './transfers.js';
import type { Replication } from './replication.js';
import type { Teardown } from './teardown.js';
import type { Reconciler } from './reconcile.js';

/** The edges: configuration, persistence, agents, logs, time and ids. */
export interface CoordinatorEdges {
  readonly config: CoordinatorConfig;
  readonly store: Store;
  readonly agents: AgentGateway;
  readonly log: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly ids: Ids;
}

export interface CoordinatorContext extends CoordinatorEdges {
  readonly allocator: AddressAllocator;
  readonly events: EventBus;
  readonly flags: JobFlags;
  readonly index: JobIndex;
  readonly grid: GridState;
  readonly catalog: SnapshotCatalog;
  readonly registry: SiteRegistry;
  readonly placement: PlacementLoop;
  readonly deployer: Deployer;
  readonly operations: JobOperations;
  readonly moves: MoveExecutor;
  readonly transfers: Transfers;
  readonly replication: Replication;
  readonly teardown: Teardown;
  readonly reconciler: Reconciler;
}
