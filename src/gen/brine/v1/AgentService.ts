// Original file: proto/brine/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';
import type { DeployClusterRequest as _brine_v1_DeployClusterRequest, DeployClusterRequest__Output as _brine_v1_DeployClusterRequest__Output } from '../../brine/v1/DeployClusterRequest.js';
import type { DestroyClusterRequest as _brine_v1_DestroyClusterRequest, DestroyClusterRequest__Output as _brine_v1_DestroyClusterRequest__Output } from '../../brine/v1/DestroyClusterRequest.js';
import type { GetStatusRequest as _brine_v1_GetStatusRequest, GetStatusRequest__Output as _brine_v1_GetStatusRequest__Output } from '../../brine/v1/GetStatusRequest.js';
import type { GetStatusResponse as _brine_v1_GetStatusResponse, GetStatusResponse__Output as _brine_v1_GetStatusResponse__Output } from '../../brine/v1/GetStatusResponse.js';
import type { PruneSnapshotsRequest as _brine_v1_PruneSnapshotsRequest, PruneSnapshotsRequest__Output as _brine_v1_PruneSnapshotsRequest__Output } from '../../brine/v1/PruneSnapshotsRequest.js';
import type { PruneSnapshotsResponse as _brine_v1_PruneSnapshotsResponse, PruneSnapshotsResponse__Output as _brine_v1_PruneSnapshotsResponse__Output } from '../../brine/v1/PruneSnapshotsResponse.js';
import type { RestoreClusterRequest as _brine_v1_RestoreClusterRequest, RestoreClusterRequest__Output as _brine_v1_RestoreClusterRequest__Output } from '../../brine/v1/RestoreClusterRequest.js';
import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from '../../brine/v1/Snapshot.js';
import type { TakeSnapshotRequest as _brine_v1_TakeSnapshotRequest, TakeSnapshotRequest__Output as _brine_v1_TakeSnapshotRequest__Output } from '../../brine/v1/TakeSnapshotRequest.js';

export interface AgentServiceClient extends grpc.Client {
  DeployCluster(argument: _brine_v1_DeployClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DeployCluster(argument: _brine_v1_DeployClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DeployCluster(argument: _brine_v1_DeployClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DeployCluster(argument: _brine_v1_DeployClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  deployCluster(argument: _brine_v1_DeployClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  deployCluster(argument: _brine_v1_DeployClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  deployCluster(argument: _brine_v1_DeployClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  deployCluster(argument: _brine_v1_DeployClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  
  DestroyCluster(argument: _brine_v1_DestroyClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DestroyCluster(argument: _brine_v1_DestroyClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DestroyCluster(argument: _brine_v1_DestroyClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  DestroyCluster(argument: _brine_v1_DestroyClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  destroyCluster(argument: _brine_v1_DestroyClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  destroyCluster(argument: _brine_v1_DestroyClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  destroyCluster(argument: _brine_v1_DestroyClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  destroyCluster(argument: _brine_v1_DestroyClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes snapshots of a job from the store beyond the last `keep` (and collects unused chunks).
   */
  PruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  PruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  PruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  PruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes snapshots of a job from the store beyond the last `keep` (and collects unused chunks).
   */
  pruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  pruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  pruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  pruneSnapshots(argument: _brine_v1_PruneSnapshotsRequest, callback: grpc.requestCallback<_brine_v1_PruneSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Recreates a cluster from a snapshot in this site's store; the guests continue where they were.
   */
  RestoreCluster(argument: _brine_v1_RestoreClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  RestoreCluster(argument: _brine_v1_RestoreClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  RestoreCluster(argument: _brine_v1_RestoreClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  RestoreCluster(argument: _brine_v1_RestoreClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  /**
   * Recreates a cluster from a snapshot in this site's store; the guests continue where they were.
   */
  restoreCluster(argument: _brine_v1_RestoreClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  restoreCluster(argument: _brine_v1_RestoreClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  restoreCluster(argument: _brine_v1_RestoreClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  restoreCluster(argument: _brine_v1_RestoreClusterRequest, callback: grpc.requestCallback<_brine_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  
  /**
   * Coordinated snapshot of a running cluster: every VM paused in parallel, memory and disk state
   * captured into the site's store, then resumed (checkpoint) or left stopped and removed from
   * the nodes (suspend). Returns only once the snapshot's manifest is durable in the store.
   */
  TakeSnapshot(argument: _brine_v1_TakeSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  TakeSnapshot(argument: _brine_v1_TakeSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  TakeSnapshot(argument: _brine_v1_TakeSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  TakeSnapshot(argument: _brine_v1_TakeSnapshotRequest, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  /**
   * Coordinated snapshot of a running cluster: every VM paused in parallel, memory and disk state
   * captured into the site's store, then resumed (checkpoint) or left stopped and removed from
   * the nodes (suspend). Returns only once the snapshot's manifest is durable in the store.
   */
  takeSnapshot(argument: _brine_v1_TakeSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  takeSnapshot(argument: _brine_v1_TakeSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  takeSnapshot(argument: _brine_v1_TakeSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  takeSnapshot(argument: _brine_v1_TakeSnapshotRequest, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  DeployCluster: grpc.handleUnaryCall<_brine_v1_DeployClusterRequest__Output, _brine_v1_ClusterStatus>;
  
  DestroyCluster: grpc.handleUnaryCall<_brine_v1_DestroyClusterRequest__Output, _brine_v1_ClusterStatus>;
  
  GetStatus: grpc.handleUnaryCall<_brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse>;
  
  /**
   * Removes snapshots of a job from the store beyond the last `keep` (and collects unused chunks).
   */
  PruneSnapshots: grpc.handleUnaryCall<_brine_v1_PruneSnapshotsRequest__Output, _brine_v1_PruneSnapshotsResponse>;
  
  /**
   * Recreates a cluster from a snapshot in this site's store; the guests continue where they were.
   */
  RestoreCluster: grpc.handleUnaryCall<_brine_v1_RestoreClusterRequest__Output, _brine_v1_ClusterStatus>;
  
  /**
   * Coordinated snapshot of a running cluster: every VM paused in parallel, memory and disk state
   * captured into the site's store, then resumed (checkpoint) or left stopped and removed from
   * the nodes (suspend). Returns only once the snapshot's manifest is durable in the store.
   */
  TakeSnapshot: grpc.handleUnaryCall<_brine_v1_TakeSnapshotRequest__Output, _brine_v1_Snapshot>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  DeployCluster: MethodDefinition<_brine_v1_DeployClusterRequest, _brine_v1_ClusterStatus, _brine_v1_DeployClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  DestroyCluster: MethodDefinition<_brine_v1_DestroyClusterRequest, _brine_v1_ClusterStatus, _brine_v1_DestroyClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  GetStatus: MethodDefinition<_brine_v1_GetStatusRequest, _brine_v1_GetStatusResponse, _brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse__Output>
  PruneSnapshots: MethodDefinition<_brine_v1_PruneSnapshotsRequest, _brine_v1_PruneSnapshotsResponse, _brine_v1_PruneSnapshotsRequest__Output, _brine_v1_PruneSnapshotsResponse__Output>
  RestoreCluster: MethodDefinition<_brine_v1_RestoreClusterRequest, _brine_v1_ClusterStatus, _brine_v1_RestoreClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  TakeSnapshot: MethodDefinition<_brine_v1_TakeSnapshotRequest, _brine_v1_Snapshot, _brine_v1_TakeSnapshotRequest__Output, _brine_v1_Snapshot__Output>
}
