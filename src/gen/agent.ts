import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentServiceClient as _brine_v1_AgentServiceClient, AgentServiceDefinition as _brine_v1_AgentServiceDefinition } from './brine/v1/AgentService.js';
import type { ChunkBatch as _brine_v1_ChunkBatch, ChunkBatch__Output as _brine_v1_ChunkBatch__Output } from './brine/v1/ChunkBatch.js';
import type { ChunkData as _brine_v1_ChunkData, ChunkData__Output as _brine_v1_ChunkData__Output } from './brine/v1/ChunkData.js';
import type { ClusterSpec as _brine_v1_ClusterSpec, ClusterSpec__Output as _brine_v1_ClusterSpec__Output } from './brine/v1/ClusterSpec.js';
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from './brine/v1/ClusterStatus.js';
import type { ConsoleChunk as _brine_v1_ConsoleChunk, ConsoleChunk__Output as _brine_v1_ConsoleChunk__Output } from './brine/v1/ConsoleChunk.js';
import type { DeployClusterRequest as _brine_v1_DeployClusterRequest, DeployClusterRequest__Output as _brine_v1_DeployClusterRequest__Output } from './brine/v1/DeployClusterRequest.js';
import type { DestroyClusterRequest as _brine_v1_DestroyClusterRequest, DestroyClusterRequest__Output as _brine_v1_DestroyClusterRequest__Output } from './brine/v1/DestroyClusterRequest.js';
import type { FetchSnapshotRequest as _brine_v1_FetchSnapshotRequest, FetchSnapshotRequest__Output as _brine_v1_FetchSnapshotRequest__Output } from './brine/v1/FetchSnapshotRequest.js';
import type { GetManifestRequest as _brine_v1_GetManifestRequest, GetManifestRequest__Output as _brine_v1_GetManifestRequest__Output } from './brine/v1/GetManifestRequest.js';
import type { GetManifestResponse as _brine_v1_GetManifestResponse, GetManifestResponse__Output as _brine_v1_GetManifestResponse__Output } from './brine/v1/GetManifestResponse.js';
import type { GetStatusRequest as _brine_v1_GetStatusRequest, GetStatusRequest__Output as _brine_v1_GetStatusRequest__Output } from './brine/v1/GetStatusRequest.js';
import type { GetStatusResponse as _brine_v1_GetStatusResponse, GetStatusResponse__Output as _brine_v1_GetStatusResponse__Output } from './brine/v1/GetStatusResponse.js';
import type { Job as _brine_v1_Job, Job__Output as _brine_v1_Job__Output } from './brine/v1/Job.js';
import type { Lease as _brine_v1_Lease, Lease__Output as _brine_v1_Lease__Output } from './brine/v1/Lease.js';
import type { LocalReclaimRequest as _brine_v1_LocalReclaimRequest, LocalReclaimRequest__Output as _brine_v1_LocalReclaimRequest__Output } from './brine/v1/LocalReclaimRequest.js';
import type { LocalReclaimResponse as _brine_v1_LocalReclaimResponse, LocalReclaimResponse__Output as _brine_v1_LocalReclaimResponse__Output } from './brine/v1/LocalReclaimResponse.js';
import type { LocalReleaseRequest as _brine_v1_LocalReleaseRequest, LocalReleaseRequest__Output as _brine_v1_LocalReleaseRequest__Output } from './brine/v1/LocalReleaseRequest.js';
import type { LocalReleaseResponse as _brine_v1_LocalReleaseResponse, LocalReleaseResponse__Output as _brine_v1_LocalReleaseResponse__Output } from './brine/v1/LocalReleaseResponse.js';
import type { NodeInfo as _brine_v1_NodeInfo, NodeInfo__Output as _brine_v1_NodeInfo__Output } from './brine/v1/NodeInfo.js';
import type { OutputChunk as _brine_v1_OutputChunk, OutputChunk__Output as _brine_v1_OutputChunk__Output } from './brine/v1/OutputChunk.js';
import type { PreemptedJob as _brine_v1_PreemptedJob, PreemptedJob__Output as _brine_v1_PreemptedJob__Output } from './brine/v1/PreemptedJob.js';
import type { PruneSnapshotsRequest as _brine_v1_PruneSnapshotsRequest, PruneSnapshotsRequest__Output as _brine_v1_PruneSnapshotsRequest__Output } from './brine/v1/PruneSnapshotsRequest.js';
import type { PruneSnapshotsResponse as _brine_v1_PruneSnapshotsResponse, PruneSnapshotsResponse__Output as _brine_v1_PruneSnapshotsResponse__Output } from './brine/v1/PruneSnapshotsResponse.js';
import type { ReadChunksRequest as _brine_v1_ReadChunksRequest, ReadChunksRequest__Output as _brine_v1_ReadChunksRequest__Output } from './brine/v1/ReadChunksRequest.js';
import type { ReadConsoleRequest as _brine_v1_ReadConsoleRequest, ReadConsoleRequest__Output as _brine_v1_ReadConsoleRequest__Output } from './brine/v1/ReadConsoleRequest.js';
import type { ReadOutputRequest as _brine_v1_ReadOutputRequest, ReadOutputRequest__Output as _brine_v1_ReadOutputRequest__Output } from './brine/v1/ReadOutputRequest.js';
import type { RestoreClusterRequest as _brine_v1_RestoreClusterRequest, RestoreClusterRequest__Output as _brine_v1_RestoreClusterRequest__Output } from './brine/v1/RestoreClusterRequest.js';
import type { Site as _brine_v1_Site, Site__Output as _brine_v1_Site__Output } from './brine/v1/Site.js';
import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from './brine/v1/Snapshot.js';
import type { TakeSnapshotRequest as _brine_v1_TakeSnapshotRequest, TakeSnapshotRequest__Output as _brine_v1_TakeSnapshotRequest__Output } from './brine/v1/TakeSnapshotRequest.js';
import type { TransferProgress as _brine_v1_TransferProgress, TransferProgress__Output as _brine_v1_TransferProgress__Output } from './brine/v1/TransferProgress.js';
import type { Transition as _brine_v1_Transition, Transition__Output as _brine_v1_Transition__Output } from './brine/v1/Transition.js';
import type { Vm as _brine_v1_Vm, Vm__Output as _brine_v1_Vm__Output } from './brine/v1/Vm.js';
import type { VmSnapshotInfo as _brine_v1_VmSnapshotInfo, VmSnapshotInfo__Output as _brine_v1_VmSnapshotInfo__Output } from './brine/v1/VmSnapshotInfo.js';
import type { VmSpec as _brine_v1_VmSpec, VmSpec__Output as _brine_v1_VmSpec__Output } from './brine/v1/VmSpec.js';
import type { VmStatus as _brine_v1_VmStatus, VmStatus__Output as _brine_v1_VmStatus__Output } from './brine/v1/VmStatus.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  brine: {
    v1: {
      AgentService: SubtypeConstructor<typeof grpc.Client, _brine_v1_AgentServiceClient> & { service: _brine_v1_AgentServiceDefinition }
      ChunkBatch: MessageTypeDefinition<_brine_v1_ChunkBatch, _brine_v1_ChunkBatch__Output>
      ChunkData: MessageTypeDefinition<_brine_v1_ChunkData, _brine_v1_ChunkData__Output>
      ClusterSpec: MessageTypeDefinition<_brine_v1_ClusterSpec, _brine_v1_ClusterSpec__Output>
      ClusterStatus: MessageTypeDefinition<_brine_v1_ClusterStatus, _brine_v1_ClusterStatus__Output>
      ConsoleChunk: MessageTypeDefinition<_brine_v1_ConsoleChunk, _brine_v1_ConsoleChunk__Output>
      DeployClusterRequest: MessageTypeDefinition<_brine_v1_DeployClusterRequest, _brine_v1_DeployClusterRequest__Output>
      DestroyClusterRequest: MessageTypeDefinition<_brine_v1_DestroyClusterRequest, _brine_v1_DestroyClusterRequest__Output>
      FetchSnapshotRequest: MessageTypeDefinition<_brine_v1_FetchSnapshotRequest, _brine_v1_FetchSnapshotRequest__Output>
      GetManifestRequest: MessageTypeDefinition<_brine_v1_GetManifestRequest, _brine_v1_GetManifestRequest__Output>
      GetManifestResponse: MessageTypeDefinition<_brine_v1_GetManifestResponse, _brine_v1_GetManifestResponse__Output>
      GetStatusRequest: MessageTypeDefinition<_brine_v1_GetStatusRequest, _brine_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_brine_v1_GetStatusResponse, _brine_v1_GetStatusResponse__Output>
      Job: MessageTypeDefinition<_brine_v1_Job, _brine_v1_Job__Output>
      JobState: EnumTypeDefinition
      Lease: MessageTypeDefinition<_brine_v1_Lease, _brine_v1_Lease__Output>
      LocalReclaimRequest: MessageTypeDefinition<_brine_v1_LocalReclaimRequest, _brine_v1_LocalReclaimRequest__Output>
      LocalReclaimResponse: MessageTypeDefinition<_brine_v1_LocalReclaimResponse, _brine_v1_LocalReclaimResponse__Output>
      LocalReleaseRequest: MessageTypeDefinition<_brine_v1_LocalReleaseRequest, _brine_v1_LocalReleaseRequest__Output>
      LocalReleaseResponse: MessageTypeDefinition<_brine_v1_LocalReleaseResponse, _brine_v1_LocalReleaseResponse__Output>
      NodeInfo: MessageTypeDefinition<_brine_v1_NodeInfo, _brine_v1_NodeInfo__Output>
      OutputChunk: MessageTypeDefinition<_brine_v1_OutputChunk, _brine_v1_OutputChunk__Output>
      PreemptedJob: MessageTypeDefinition<_brine_v1_PreemptedJob, _brine_v1_PreemptedJob__Output>
      PruneSnapshotsRequest: MessageTypeDefinition<_brine_v1_PruneSnapshotsRequest, _brine_v1_PruneSnapshotsRequest__Output>
      PruneSnapshotsResponse: MessageTypeDefinition<_brine_v1_PruneSnapshotsResponse, _brine_v1_PruneSnapshotsResponse__Output>
      ReadChunksRequest: MessageTypeDefinition<_brine_v1_ReadChunksRequest, _brine_v1_ReadChunksRequest__Output>
      ReadConsoleRequest: MessageTypeDefinition<_brine_v1_ReadConsoleRequest, _brine_v1_ReadConsoleRequest__Output>
      ReadOutputRequest: MessageTypeDefinition<_brine_v1_ReadOutputRequest, _brine_v1_ReadOutputRequest__Output>
      RestoreClusterRequest: MessageTypeDefinition<_brine_v1_RestoreClusterRequest, _brine_v1_RestoreClusterRequest__Output>
      Site: MessageTypeDefinition<_brine_v1_Site, _brine_v1_Site__Output>
      Snapshot: MessageTypeDefinition<_brine_v1_Snapshot, _brine_v1_Snapshot__Output>
      TakeSnapshotRequest: MessageTypeDefinition<_brine_v1_TakeSnapshotRequest, _brine_v1_TakeSnapshotRequest__Output>
      TransferProgress: MessageTypeDefinition<_brine_v1_TransferProgress, _brine_v1_TransferProgress__Output>
      Transition: MessageTypeDefinition<_brine_v1_Transition, _brine_v1_Transition__Output>
      Vm: MessageTypeDefinition<_brine_v1_Vm, _brine_v1_Vm__Output>
      VmSnapshotInfo: MessageTypeDefinition<_brine_v1_VmSnapshotInfo, _brine_v1_VmSnapshotInfo__Output>
      VmSpec: MessageTypeDefinition<_brine_v1_VmSpec, _brine_v1_VmSpec__Output>
      VmStatus: MessageTypeDefinition<_brine_v1_VmStatus, _brine_v1_VmStatus__Output>
    }
  }
}

