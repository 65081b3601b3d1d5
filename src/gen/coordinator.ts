import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CancelJobRequest as _brine_v1_CancelJobRequest, CancelJobRequest__Output as _brine_v1_CancelJobRequest__Output } from './brine/v1/CancelJobRequest.js';
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from './brine/v1/ClusterStatus.js';
import type { Event as _brine_v1_Event, Event__Output as _brine_v1_Event__Output } from './brine/v1/Event.js';
import type { GetJobRequest as _brine_v1_GetJobRequest, GetJobRequest__Output as _brine_v1_GetJobRequest__Output } from './brine/v1/GetJobRequest.js';
import type { HeartbeatRequest as _brine_v1_HeartbeatRequest, HeartbeatRequest__Output as _brine_v1_HeartbeatRequest__Output } from './brine/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _brine_v1_HeartbeatResponse, HeartbeatResponse__Output as _brine_v1_HeartbeatResponse__Output } from './brine/v1/HeartbeatResponse.js';
import type { Job as _brine_v1_Job, Job__Output as _brine_v1_Job__Output } from './brine/v1/Job.js';
import type { JobServiceClient as _brine_v1_JobServiceClient, JobServiceDefinition as _brine_v1_JobServiceDefinition } from './brine/v1/JobService.js';
import type { Lease as _brine_v1_Lease, Lease__Output as _brine_v1_Lease__Output } from './brine/v1/Lease.js';
import type { ListAddressesRequest as _brine_v1_ListAddressesRequest, ListAddressesRequest__Output as _brine_v1_ListAddressesRequest__Output } from './brine/v1/ListAddressesRequest.js';
import type { ListAddressesResponse as _brine_v1_ListAddressesResponse, ListAddressesResponse__Output as _brine_v1_ListAddressesResponse__Output } from './brine/v1/ListAddressesResponse.js';
import type { ListJobsRequest as _brine_v1_ListJobsRequest, ListJobsRequest__Output as _brine_v1_ListJobsRequest__Output } from './brine/v1/ListJobsRequest.js';
import type { ListJobsResponse as _brine_v1_ListJobsResponse, ListJobsResponse__Output as _brine_v1_ListJobsResponse__Output } from './brine/v1/ListJobsResponse.js';
import type { ListSitesRequest as _brine_v1_ListSitesRequest, ListSitesRequest__Output as _brine_v1_ListSitesRequest__Output } from './brine/v1/ListSitesRequest.js';
import type { ListSitesResponse as _brine_v1_ListSitesResponse, ListSitesResponse__Output as _brine_v1_ListSitesResponse__Output } from './brine/v1/ListSitesResponse.js';
import type { ListSnapshotsRequest as _brine_v1_ListSnapshotsRequest, ListSnapshotsRequest__Output as _brine_v1_ListSnapshotsRequest__Output } from './brine/v1/ListSnapshotsRequest.js';
import type { ListSnapshotsResponse as _brine_v1_ListSnapshotsResponse, ListSnapshotsResponse__Output as _brine_v1_ListSnapshotsResponse__Output } from './brine/v1/ListSnapshotsResponse.js';
import type { LocalReclaimReport as _brine_v1_LocalReclaimReport, LocalReclaimReport__Output as _brine_v1_LocalReclaimReport__Output } from './brine/v1/LocalReclaimReport.js';
import type { LocalSuspension as _brine_v1_LocalSuspension, LocalSuspension__Output as _brine_v1_LocalSuspension__Output } from './brine/v1/LocalSuspension.js';
import type { LogChunk as _brine_v1_LogChunk, LogChunk__Output as _brine_v1_LogChunk__Output } from './brine/v1/LogChunk.js';
import type { LogsRequest as _brine_v1_LogsRequest, LogsRequest__Output as _brine_v1_LogsRequest__Output } from './brine/v1/LogsRequest.js';
import type { MigrateJobRequest as _brine_v1_MigrateJobRequest, MigrateJobRequest__Output as _brine_v1_MigrateJobRequest__Output } from './brine/v1/MigrateJobRequest.js';
import type { NodeInfo as _brine_v1_NodeInfo, NodeInfo__Output as _brine_v1_NodeInfo__Output } from './brine/v1/NodeInfo.js';
import type { NodeSpec as _brine_v1_NodeSpec, NodeSpec__Output as _brine_v1_NodeSpec__Output } from './brine/v1/NodeSpec.js';
import type { OutputChunk as _brine_v1_OutputChunk, OutputChunk__Output as _brine_v1_OutputChunk__Output } from './brine/v1/OutputChunk.js';
import type { PreemptedJob as _brine_v1_PreemptedJob, PreemptedJob__Output as _brine_v1_PreemptedJob__Output } from './brine/v1/PreemptedJob.js';
import type { ReadOutputRequest as _brine_v1_ReadOutputRequest, ReadOutputRequest__Output as _brine_v1_ReadOutputRequest__Output } from './brine/v1/ReadOutputRequest.js';
import type { ReclaimNodesRequest as _brine_v1_ReclaimNodesRequest, ReclaimNodesRequest__Output as _brine_v1_ReclaimNodesRequest__Output } from './brine/v1/ReclaimNodesRequest.js';
import type { RegisterRequest as _brine_v1_RegisterRequest, RegisterRequest__Output as _brine_v1_RegisterRequest__Output } from './brine/v1/RegisterRequest.js';
import type { RegisterResponse as _brine_v1_RegisterResponse, RegisterResponse__Output as _brine_v1_RegisterResponse__Output } from './brine/v1/RegisterResponse.js';
import type { RegistryServiceClient as _brine_v1_RegistryServiceClient, RegistryServiceDefinition as _brine_v1_RegistryServiceDefinition } from './brine/v1/RegistryService.js';
import type { ReleaseNodesRequest as _brine_v1_ReleaseNodesRequest, ReleaseNodesRequest__Output as _brine_v1_ReleaseNodesRequest__Output } from './brine/v1/ReleaseNodesRequest.js';
import type { RemoveSiteRequest as _brine_v1_RemoveSiteRequest, RemoveSiteRequest__Output as _brine_v1_RemoveSiteRequest__Output } from './brine/v1/RemoveSiteRequest.js';
import type { ReportStatusRequest as _brine_v1_ReportStatusRequest, ReportStatusRequest__Output as _brine_v1_ReportStatusRequest__Output } from './brine/v1/ReportStatusRequest.js';
import type { ReportStatusResponse as _brine_v1_ReportStatusResponse, ReportStatusResponse__Output as _brine_v1_ReportStatusResponse__Output } from './brine/v1/ReportStatusResponse.js';
import type { ResumeJobRequest as _brine_v1_ResumeJobRequest, ResumeJobRequest__Output as _brine_v1_ResumeJobRequest__Output } from './brine/v1/ResumeJobRequest.js';
import type { Site as _brine_v1_Site, Site__Output as _brine_v1_Site__Output } from './brine/v1/Site.js';
import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from './brine/v1/Snapshot.js';
import type { SnapshotJobRequest as _brine_v1_SnapshotJobRequest, SnapshotJobRequest__Output as _brine_v1_SnapshotJobRequest__Output } from './brine/v1/SnapshotJobRequest.js';
import type { SubmitJobRequest as _brine_v1_SubmitJobRequest, SubmitJobRequest__Output as _brine_v1_SubmitJobRequest__Output } from './brine/v1/SubmitJobRequest.js';
import type { SuspendJobRequest as _brine_v1_SuspendJobRequest, SuspendJobRequest__Output as _brine_v1_SuspendJobRequest__Output } from './brine/v1/SuspendJobRequest.js';
import type { Transition as _brine_v1_Transition, Transition__Output as _brine_v1_Transition__Output } from './brine/v1/Transition.js';
import type { Vm as _brine_v1_Vm, Vm__Output as _brine_v1_Vm__Output } from './brine/v1/Vm.js';
import type { VmSnapshotInfo as _brine_v1_VmSnapshotInfo, VmSnapshotInfo__Output as _brine_v1_VmSnapshotInfo__Output } from './brine/v1/VmSnapshotInfo.js';
import type { VmStatus as _brine_v1_VmStatus, VmStatus__Output as _brine_v1_VmStatus__Output } from './brine/v1/VmStatus.js';
import type { WatchRequest as _brine_v1_WatchRequest, WatchRequest__Output as _brine_v1_WatchRequest__Output } from './brine/v1/WatchRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  brine: {
    v1: {
      CancelJobRequest: MessageTypeDefinition<_brine_v1_CancelJobRequest, _brine_v1_CancelJobRequest__Output>
      ClusterStatus: MessageTypeDefinition<_brine_v1_ClusterStatus, _brine_v1_ClusterStatus__Output>
      Event: MessageTypeDefinition<_brine_v1_Event, _brine_v1_Event__Output>
      GetJobRequest: MessageTypeDefinition<_brine_v1_GetJobRequest, _brine_v1_GetJobRequest__Output>
      HeartbeatRequest: MessageTypeDefinition<_brine_v1_HeartbeatRequest, _brine_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_brine_v1_HeartbeatResponse, _brine_v1_HeartbeatResponse__Output>
      Job: MessageTypeDefinition<_brine_v1_Job, _brine_v1_Job__Output>
      JobService: SubtypeConstructor<typeof grpc.Client, _brine_v1_JobServiceClient> & { service: _brine_v1_JobServiceDefinition }
      JobState: EnumTypeDefinition
      Lease: MessageTypeDefinition<_brine_v1_Lease, _brine_v1_Lease__Output>
      ListAddressesRequest: MessageTypeDefinition<_brine_v1_ListAddressesRequest, _brine_v1_ListAddressesRequest__Output>
      ListAddressesResponse: MessageTypeDefinition<_brine_v1_ListAddressesResponse, _brine_v1_ListAddressesResponse__Output>
      ListJobsRequest: MessageTypeDefinition<_brine_v1_ListJobsRequest, _brine_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_brine_v1_ListJobsResponse, _brine_v1_ListJobsResponse__Output>
      ListSitesRequest: MessageTypeDefinition<_brine_v1_ListSitesRequest, _brine_v1_ListSitesRequest__Output>
      ListSitesResponse: MessageTypeDefinition<_brine_v1_ListSitesResponse, _brine_v1_ListSitesResponse__Output>
      ListSnapshotsRequest: MessageTypeDefinition<_brine_v1_ListSnapshotsRequest, _brine_v1_ListSnapshotsRequest__Output>
      ListSnapshotsResponse: MessageTypeDefinition<_brine_v1_ListSnapshotsResponse, _brine_v1_ListSnapshotsResponse__Output>
      LocalReclaimReport: MessageTypeDefinition<_brine_v1_LocalReclaimReport, _brine_v1_LocalReclaimReport__Output>
      LocalSuspension: MessageTypeDefinition<_brine_v1_LocalSuspension, _brine_v1_LocalSuspension__Output>
      LogChunk: MessageTypeDefinition<_brine_v1_LogChunk, _brine_v1_LogChunk__Output>
      LogsRequest: MessageTypeDefinition<_brine_v1_LogsRequest, _brine_v1_LogsRequest__Output>
      MigrateJobRequest: MessageTypeDefinition<_brine_v1_MigrateJobRequest, _brine_v1_MigrateJobRequest__Output>
      NodeInfo: MessageTypeDefinition<_brine_v1_NodeInfo, _brine_v1_NodeInfo__Output>
      NodeSpec: MessageTypeDefinition<_brine_v1_NodeSpec, _brine_v1_NodeSpec__Output>
      OutputChunk: MessageTypeDefinition<_brine_v1_OutputChunk, _brine_v1_OutputChunk__Output>
      PreemptedJob: MessageTypeDefinition<_brine_v1_PreemptedJob, _brine_v1_PreemptedJob__Output>
      ReadOutputRequest: MessageTypeDefinition<_brine_v1_ReadOutputRequest, _brine_v1_ReadOutputRequest__Output>
      ReclaimNodesRequest: MessageTypeDefinition<_brine_v1_ReclaimNodesRequest, _brine_v1_ReclaimNodesRequest__Output>
      RegisterRequest: MessageTypeDefinition<_brine_v1_RegisterRequest, _brine_v1_RegisterRequest__Output>
      RegisterResponse: MessageTypeDefinition<_brine_v1_RegisterResponse, _brine_v1_RegisterResponse__Output>
      RegistryService: SubtypeConstructor<typeof grpc.Client, _brine_v1_RegistryServiceClient> & { service: _brine_v1_RegistryServiceDefinition }
      ReleaseNodesRequest: MessageTypeDefinition<_brine_v1_ReleaseNodesRequest, _brine_v1_ReleaseNodesRequest__Output>
      RemoveSiteRequest: MessageTypeDefinition<_brine_v1_RemoveSiteRequest, _brine_v1_RemoveSiteRequest__Output>
      ReportStatusRequest: MessageTypeDefinition<_brine_v1_ReportStatusRequest, _brine_v1_ReportStatusRequest__Output>
      ReportStatusResponse: MessageTypeDefinition<_brine_v1_ReportStatusResponse, _brine_v1_ReportStatusResponse__Output>
      ResumeJobRequest: MessageTypeDefinition<_brine_v1_ResumeJobRequest, _brine_v1_ResumeJobRequest__Output>
      Site: MessageTypeDefinition<_brine_v1_Site, _brine_v1_Site__Output>
      Snapshot: MessageTypeDefinition<_brine_v1_Snapshot, _brine_v1_Snapshot__Output>
      SnapshotJobRequest: MessageTypeDefinition<_brine_v1_SnapshotJobRequest, _brine_v1_SnapshotJobRequest__Output>
      SubmitJobRequest: MessageTypeDefinition<_brine_v1_SubmitJobRequest, _brine_v1_SubmitJobRequest__Output>
      SuspendJobRequest: MessageTypeDefinition<_brine_v1_SuspendJobRequest, _brine_v1_SuspendJobRequest__Output>
      Transition: MessageTypeDefinition<_brine_v1_Transition, _brine_v1_Transition__Output>
      Vm: MessageTypeDefinition<_brine_v1_Vm, _brine_v1_Vm__Output>
      VmSnapshotInfo: MessageTypeDefinition<_brine_v1_VmSnapshotInfo, _brine_v1_VmSnapshotInfo__Output>
      VmStatus: MessageTypeDefinition<_brine_v1_VmStatus, _brine_v1_VmStatus__Output>
      WatchRequest: MessageTypeDefinition<_brine_v1_WatchRequest, _brine_v1_WatchRequest__Output>
    }
  }
}

