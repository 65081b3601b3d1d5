// Original file: proto/brine/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ChunkBatch as _brine_v1_ChunkBatch, ChunkBatch__Output as _brine_v1_ChunkBatch__Output } from '../../brine/v1/ChunkBatch.js';
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';
import type { ConsoleChunk as _brine_v1_ConsoleChunk, ConsoleChunk__Output as _brine_v1_ConsoleChunk__Output } from '../../brine/v1/ConsoleChunk.js';
import type { DeployClusterRequest as _brine_v1_DeployClusterRequest, DeployClusterRequest__Output as _brine_v1_DeployClusterRequest__Output } from '../../brine/v1/DeployClusterRequest.js';
import type { DestroyClusterRequest as _brine_v1_DestroyClusterRequest, DestroyClusterRequest__Output as _brine_v1_DestroyClusterRequest__Output } from '../../brine/v1/DestroyClusterRequest.js';
import type { FetchSnapshotRequest as _brine_v1_FetchSnapshotRequest, FetchSnapshotRequest__Output as _brine_v1_FetchSnapshotRequest__Output } from '../../brine/v1/FetchSnapshotRequest.js';
import type { GetManifestRequest as _brine_v1_GetManifestRequest, GetManifestRequest__Output as _brine_v1_GetManifestRequest__Output } from '../../brine/v1/GetManifestRequest.js';
import type { GetManifestResponse as _brine_v1_GetManifestResponse, GetManifestResponse__Output as _brine_v1_GetManifestResponse__Output } from '../../brine/v1/GetManifestResponse.js';
import type { GetStatusRequest as _brine_v1_GetStatusRequest, GetStatusRequest__Output as _brine_v1_GetStatusRequest__Output } from '../../brine/v1/GetStatusRequest.js';
import type { GetStatusResponse as _brine_v1_GetStatusResponse, GetStatusResponse__Output as _brine_v1_GetStatusResponse__Output } from '../../brine/v1/GetStatusResponse.js';
import type { LocalReclaimRequest as _brine_v1_LocalReclaimRequest, LocalReclaimRequest__Output as _brine_v1_LocalReclaimRequest__Output } from '../../brine/v1/LocalReclaimRequest.js';
import type { LocalReclaimResponse as _brine_v1_LocalReclaimResponse, LocalReclaimResponse__Output as _brine_v1_LocalReclaimResponse__Output } from '../../brine/v1/LocalReclaimResponse.js';
import type { LocalReleaseRequest as _brine_v1_LocalReleaseRequest, LocalReleaseRequest__Output as _brine_v1_LocalReleaseRequest__Output } from '../../brine/v1/LocalReleaseRequest.js';
import type { LocalReleaseResponse as _brine_v1_LocalReleaseResponse, LocalReleaseResponse__Output as _brine_v1_LocalReleaseResponse__Output } from '../../brine/v1/LocalReleaseResponse.js';
import type { OutputChunk as _brine_v1_OutputChunk, OutputChunk__Output as _brine_v1_OutputChunk__Output } from '../../brine/v1/OutputChunk.js';
import type { PruneSnapshotsRequest as _brine_v1_PruneSnapshotsRequest, PruneSnapshotsRequest__Output as _brine_v1_PruneSnapshotsRequest__Output } from '../../brine/v1/PruneSnapshotsRequest.js';
import type { PruneSnapshotsResponse as _brine_v1_PruneSnapshotsResponse, PruneSnapshotsResponse__Output as _brine_v1_PruneSnapshotsResponse__Output } from '../../brine/v1/PruneSnapshotsResponse.js';
import type { ReadChunksRequest as _brine_v1_ReadChunksRequest, ReadChunksRequest__Output as _brine_v1_ReadChunksRequest__Output } from '../../brine/v1/ReadChunksRequest.js';
import type { ReadConsoleRequest as _brine_v1_ReadConsoleRequest, ReadConsoleRequest__Output as _brine_v1_ReadConsoleRequest__Output } from '../../brine/v1/ReadConsoleRequest.js';
import type { ReadOutputRequest as _brine_v1_ReadOutputRequest, ReadOutputRequest__Output as _brine_v1_ReadOutputRequest__Output } from '../../brine/v1/ReadOutputRequest.js';
import type { RestoreClusterRequest as _brine_v1_RestoreClusterRequest, RestoreClusterRequest__Output as _brine_v1_RestoreClusterRequest__Output } from '../../brine/v1/RestoreClusterRequest.js';
import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from '../../brine/v1/Snapshot.js';
import type { TakeSnapshotRequest as _brine_v1_TakeSnapshotRequest, TakeSnapshotRequest__Output as _brine_v1_TakeSnapshotRequest__Output } from '../../brine/v1/TakeSnapshotRequest.js';
import type { TransferProgress as _brine_v1_TransferProgress, TransferProgress__Output as _brine_v1_TransferProgress__Output } from '../../brine/v1/TransferProgress.js';

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
  
  /**
   * --- agent to agent: snapshot transfers (bytes never pass through the coordinator)
   * Called on the destination by the coordinator: fetch a snapshot from the agent at `source`,
   * only the chunks this site lacks, verified, resumable; streams progress until it is complete.
   */
  FetchSnapshot(argument: _brine_v1_FetchSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_TransferProgress__Output>;
  FetchSnapshot(argument: _brine_v1_FetchSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_TransferProgress__Output>;
  /**
   * --- agent to agent: snapshot transfers (bytes never pass through the coordinator)
   * Called on the destination by the coordinator: fetch a snapshot from the agent at `source`,
   * only the chunks this site lacks, verified, resumable; streams progress until it is complete.
   */
  fetchSnapshot(argument: _brine_v1_FetchSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_TransferProgress__Output>;
  fetchSnapshot(argument: _brine_v1_FetchSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_TransferProgress__Output>;
  
  /**
   * Served by the source: a snapshot's manifest (JSON, as the store writes it).
   */
  GetManifest(argument: _brine_v1_GetManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _brine_v1_GetManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _brine_v1_GetManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _brine_v1_GetManifestRequest, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Served by the source: a snapshot's manifest (JSON, as the store writes it).
   */
  getManifest(argument: _brine_v1_GetManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _brine_v1_GetManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _brine_v1_GetManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _brine_v1_GetManifestRequest, callback: grpc.requestCallback<_brine_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _brine_v1_GetStatusRequest, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _brine_v1_GetStatusRequest, callback: grpc.requestCallback<_brine_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * --- the site's own tooling (its batch scheduler's hooks, with the site's certificate), when
   * the coordinator cannot be reached
   * The nodes are closed to new VMs (kept in the agent's data dir until LocalRelease) and every
   * cluster with a VM on them is suspended: a durable snapshot, then its VMs stopped. Answers once
   * each snapshot is complete on disk, or the grace period is over. Reported to the coordinator
   * at the agent's next registration or heartbeat, which records the jobs SUSPENDED.
   */
  LocalReclaim(argument: _brine_v1_LocalReclaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  LocalReclaim(argument: _brine_v1_LocalReclaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  LocalReclaim(argument: _brine_v1_LocalReclaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  LocalReclaim(argument: _brine_v1_LocalReclaimRequest, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * --- the site's own tooling (its batch scheduler's hooks, with the site's certificate), when
   * the coordinator cannot be reached
   * The nodes are closed to new VMs (kept in the agent's data dir until LocalRelease) and every
   * cluster with a VM on them is suspended: a durable snapshot, then its VMs stopped. Answers once
   * each snapshot is complete on disk, or the grace period is over. Reported to the coordinator
   * at the agent's next registration or heartbeat, which records the jobs SUSPENDED.
   */
  localReclaim(argument: _brine_v1_LocalReclaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  localReclaim(argument: _brine_v1_LocalReclaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  localReclaim(argument: _brine_v1_LocalReclaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  localReclaim(argument: _brine_v1_LocalReclaimRequest, callback: grpc.requestCallback<_brine_v1_LocalReclaimResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The nodes take brine VMs again (reported to the coordinator likewise).
   */
  LocalRelease(argument: _brine_v1_LocalReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  LocalRelease(argument: _brine_v1_LocalReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  LocalRelease(argument: _brine_v1_LocalReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  LocalRelease(argument: _brine_v1_LocalReleaseRequest, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The nodes take brine VMs again (reported to the coordinator likewise).
   */
  localRelease(argument: _brine_v1_LocalReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  localRelease(argument: _brine_v1_LocalReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  localRelease(argument: _brine_v1_LocalReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  localRelease(argument: _brine_v1_LocalReleaseRequest, callback: grpc.requestCallback<_brine_v1_LocalReleaseResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Served by the source: the asked chunks, compressed as stored, in order, many per message.
   */
  ReadChunks(argument: _brine_v1_ReadChunksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ChunkBatch__Output>;
  ReadChunks(argument: _brine_v1_ReadChunksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ChunkBatch__Output>;
  /**
   * Served by the source: the asked chunks, compressed as stored, in order, many per message.
   */
  readChunks(argument: _brine_v1_ReadChunksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ChunkBatch__Output>;
  readChunks(argument: _brine_v1_ReadChunksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ChunkBatch__Output>;
  
  /**
   * A VM's console from `offset`: the running VM's file here, else the copy kept after its job
   * ended, else the console in the job's latest snapshot here; `follow` streams what the guest
   * prints next, until the VM stops running here.
   */
  ReadConsole(argument: _brine_v1_ReadConsoleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ConsoleChunk__Output>;
  ReadConsole(argument: _brine_v1_ReadConsoleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ConsoleChunk__Output>;
  /**
   * A VM's console from `offset`: the running VM's file here, else the copy kept after its job
   * ended, else the console in the job's latest snapshot here; `follow` streams what the guest
   * prints next, until the VM stops running here.
   */
  readConsole(argument: _brine_v1_ReadConsoleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ConsoleChunk__Output>;
  readConsole(argument: _brine_v1_ReadConsoleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_ConsoleChunk__Output>;
  
  /**
   * The files of an ended job's kept output disks (DestroyCluster.keepOutputForMs).
   */
  ReadOutput(argument: _brine_v1_ReadOutputRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  ReadOutput(argument: _brine_v1_ReadOutputRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  /**
   * The files of an ended job's kept output disks (DestroyCluster.keepOutputForMs).
   */
  readOutput(argument: _brine_v1_ReadOutputRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  readOutput(argument: _brine_v1_ReadOutputRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  
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
  
  /**
   * --- agent to agent: snapshot transfers (bytes never pass through the coordinator)
   * Called on the destination by the coordinator: fetch a snapshot from the agent at `source`,
   * only the chunks this site lacks, verified, resumable; streams progress until it is complete.
   */
  FetchSnapshot: grpc.handleServerStreamingCall<_brine_v1_FetchSnapshotRequest__Output, _brine_v1_TransferProgress>;
  
  /**
   * Served by the source: a snapshot's manifest (JSON, as the store writes it).
   */
  GetManifest: grpc.handleUnaryCall<_brine_v1_GetManifestRequest__Output, _brine_v1_GetManifestResponse>;
  
  GetStatus: grpc.handleUnaryCall<_brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse>;
  
  /**
   * --- the site's own tooling (its batch scheduler's hooks, with the site's certificate), when
   * the coordinator cannot be reached
   * The nodes are closed to new VMs (kept in the agent's data dir until LocalRelease) and every
   * cluster with a VM on them is suspended: a durable snapshot, then its VMs stopped. Answers once
   * each snapshot is complete on disk, or the grace period is over. Reported to the coordinator
   * at the agent's next registration or heartbeat, which records the jobs SUSPENDED.
   */
  LocalReclaim: grpc.handleUnaryCall<_brine_v1_LocalReclaimRequest__Output, _brine_v1_LocalReclaimResponse>;
  
  /**
   * The nodes take brine VMs again (reported to the coordinator likewise).
   */
  LocalRelease: grpc.handleUnaryCall<_brine_v1_LocalReleaseRequest__Output, _brine_v1_LocalReleaseResponse>;
  
  /**
   * Removes snapshots of a job from the store beyond the last `keep` (and collects unused chunks).
   */
  PruneSnapshots: grpc.handleUnaryCall<_brine_v1_PruneSnapshotsRequest__Output, _brine_v1_PruneSnapshotsResponse>;
  
  /**
   * Served by the source: the asked chunks, compressed as stored, in order, many per message.
   */
  ReadChunks: grpc.handleServerStreamingCall<_brine_v1_ReadChunksRequest__Output, _brine_v1_ChunkBatch>;
  
  /**
   * A VM's console from `offset`: the running VM's file here, else the copy kept after its job
   * ended, else the console in the job's latest snapshot here; `follow` streams what the guest
   * prints next, until the VM stops running here.
   */
  ReadConsole: grpc.handleServerStreamingCall<_brine_v1_ReadConsoleRequest__Output, _brine_v1_ConsoleChunk>;
  
  /**
   * The files of an ended job's kept output disks (DestroyCluster.keepOutputForMs).
   */
  ReadOutput: grpc.handleServerStreamingCall<_brine_v1_ReadOutputRequest__Output, _brine_v1_OutputChunk>;
  
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
  FetchSnapshot: MethodDefinition<_brine_v1_FetchSnapshotRequest, _brine_v1_TransferProgress, _brine_v1_FetchSnapshotRequest__Output, _brine_v1_TransferProgress__Output>
  GetManifest: MethodDefinition<_brine_v1_GetManifestRequest, _brine_v1_GetManifestResponse, _brine_v1_GetManifestRequest__Output, _brine_v1_GetManifestResponse__Output>
  GetStatus: MethodDefinition<_brine_v1_GetStatusRequest, _brine_v1_GetStatusResponse, _brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse__Output>
  LocalReclaim: MethodDefinition<_brine_v1_LocalReclaimRequest, _brine_v1_LocalReclaimResponse, _brine_v1_LocalReclaimRequest__Output, _brine_v1_LocalReclaimResponse__Output>
  LocalRelease: MethodDefinition<_brine_v1_LocalReleaseRequest, _brine_v1_LocalReleaseResponse, _brine_v1_LocalReleaseRequest__Output, _brine_v1_LocalReleaseResponse__Output>
  PruneSnapshots: MethodDefinition<_brine_v1_PruneSnapshotsRequest, _brine_v1_PruneSnapshotsResponse, _brine_v1_PruneSnapshotsRequest__Output, _brine_v1_PruneSnapshotsResponse__Output>
  ReadChunks: MethodDefinition<_brine_v1_ReadChunksRequest, _brine_v1_ChunkBatch, _brine_v1_ReadChunksRequest__Output, _brine_v1_ChunkBatch__Output>
  ReadConsole: MethodDefinition<_brine_v1_ReadConsoleRequest, _brine_v1_ConsoleChunk, _brine_v1_ReadConsoleRequest__Output, _brine_v1_ConsoleChunk__Output>
  ReadOutput: MethodDefinition<_brine_v1_ReadOutputRequest, _brine_v1_OutputChunk, _brine_v1_ReadOutputRequest__Output, _brine_v1_OutputChunk__Output>
  RestoreCluster: MethodDefinition<_brine_v1_RestoreClusterRequest, _brine_v1_ClusterStatus, _brine_v1_RestoreClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  TakeSnapshot: MethodDefinition<_brine_v1_TakeSnapshotRequest, _brine_v1_Snapshot, _brine_v1_TakeSnapshotRequest__Output, _brine_v1_Snapshot__Output>
}
