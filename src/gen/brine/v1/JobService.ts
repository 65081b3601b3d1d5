// Original file: proto/brine/v1/coordinator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CancelJobRequest as _brine_v1_CancelJobRequest, CancelJobRequest__Output as _brine_v1_CancelJobRequest__Output } from '../../brine/v1/CancelJobRequest.js';
import type { Event as _brine_v1_Event, Event__Output as _brine_v1_Event__Output } from '../../brine/v1/Event.js';
import type { GetJobRequest as _brine_v1_GetJobRequest, GetJobRequest__Output as _brine_v1_GetJobRequest__Output } from '../../brine/v1/GetJobRequest.js';
import type { Job as _brine_v1_Job, Job__Output as _brine_v1_Job__Output } from '../../brine/v1/Job.js';
import type { ListAddressesRequest as _brine_v1_ListAddressesRequest, ListAddressesRequest__Output as _brine_v1_ListAddressesRequest__Output } from '../../brine/v1/ListAddressesRequest.js';
import type { ListAddressesResponse as _brine_v1_ListAddressesResponse, ListAddressesResponse__Output as _brine_v1_ListAddressesResponse__Output } from '../../brine/v1/ListAddressesResponse.js';
import type { ListJobsRequest as _brine_v1_ListJobsRequest, ListJobsRequest__Output as _brine_v1_ListJobsRequest__Output } from '../../brine/v1/ListJobsRequest.js';
import type { ListJobsResponse as _brine_v1_ListJobsResponse, ListJobsResponse__Output as _brine_v1_ListJobsResponse__Output } from '../../brine/v1/ListJobsResponse.js';
import type { ListSitesRequest as _brine_v1_ListSitesRequest, ListSitesRequest__Output as _brine_v1_ListSitesRequest__Output } from '../../brine/v1/ListSitesRequest.js';
import type { ListSitesResponse as _brine_v1_ListSitesResponse, ListSitesResponse__Output as _brine_v1_ListSitesResponse__Output } from '../../brine/v1/ListSitesResponse.js';
import type { ListSnapshotsRequest as _brine_v1_ListSnapshotsRequest, ListSnapshotsRequest__Output as _brine_v1_ListSnapshotsRequest__Output } from '../../brine/v1/ListSnapshotsRequest.js';
import type { ListSnapshotsResponse as _brine_v1_ListSnapshotsResponse, ListSnapshotsResponse__Output as _brine_v1_ListSnapshotsResponse__Output } from '../../brine/v1/ListSnapshotsResponse.js';
import type { LogChunk as _brine_v1_LogChunk, LogChunk__Output as _brine_v1_LogChunk__Output } from '../../brine/v1/LogChunk.js';
import type { LogsRequest as _brine_v1_LogsRequest, LogsRequest__Output as _brine_v1_LogsRequest__Output } from '../../brine/v1/LogsRequest.js';
import type { MigrateJobRequest as _brine_v1_MigrateJobRequest, MigrateJobRequest__Output as _brine_v1_MigrateJobRequest__Output } from '../../brine/v1/MigrateJobRequest.js';
import type { OutputChunk as _brine_v1_OutputChunk, OutputChunk__Output as _brine_v1_OutputChunk__Output } from '../../brine/v1/OutputChunk.js';
import type { ReadOutputRequest as _brine_v1_ReadOutputRequest, ReadOutputRequest__Output as _brine_v1_ReadOutputRequest__Output } from '../../brine/v1/ReadOutputRequest.js';
import type { ReclaimNodesRequest as _brine_v1_ReclaimNodesRequest, ReclaimNodesRequest__Output as _brine_v1_ReclaimNodesRequest__Output } from '../../brine/v1/ReclaimNodesRequest.js';
import type { ReleaseNodesRequest as _brine_v1_ReleaseNodesRequest, ReleaseNodesRequest__Output as _brine_v1_ReleaseNodesRequest__Output } from '../../brine/v1/ReleaseNodesRequest.js';
import type { RemoveSiteRequest as _brine_v1_RemoveSiteRequest, RemoveSiteRequest__Output as _brine_v1_RemoveSiteRequest__Output } from '../../brine/v1/RemoveSiteRequest.js';
import type { ResumeJobRequest as _brine_v1_ResumeJobRequest, ResumeJobRequest__Output as _brine_v1_ResumeJobRequest__Output } from '../../brine/v1/ResumeJobRequest.js';
import type { Site as _brine_v1_Site, Site__Output as _brine_v1_Site__Output } from '../../brine/v1/Site.js';
import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from '../../brine/v1/Snapshot.js';
import type { SnapshotJobRequest as _brine_v1_SnapshotJobRequest, SnapshotJobRequest__Output as _brine_v1_SnapshotJobRequest__Output } from '../../brine/v1/SnapshotJobRequest.js';
import type { SubmitJobRequest as _brine_v1_SubmitJobRequest, SubmitJobRequest__Output as _brine_v1_SubmitJobRequest__Output } from '../../brine/v1/SubmitJobRequest.js';
import type { SuspendJobRequest as _brine_v1_SuspendJobRequest, SuspendJobRequest__Output as _brine_v1_SuspendJobRequest__Output } from '../../brine/v1/SuspendJobRequest.js';
import type { WatchRequest as _brine_v1_WatchRequest, WatchRequest__Output as _brine_v1_WatchRequest__Output } from '../../brine/v1/WatchRequest.js';

export interface JobServiceClient extends grpc.Client {
  CancelJob(argument: _brine_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _brine_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _brine_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _brine_v1_CancelJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _brine_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _brine_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _brine_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _brine_v1_CancelJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  GetJob(argument: _brine_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _brine_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _brine_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _brine_v1_GetJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _brine_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _brine_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _brine_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _brine_v1_GetJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  ListAddresses(argument: _brine_v1_ListAddressesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  ListAddresses(argument: _brine_v1_ListAddressesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  ListAddresses(argument: _brine_v1_ListAddressesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  ListAddresses(argument: _brine_v1_ListAddressesRequest, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  listAddresses(argument: _brine_v1_ListAddressesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  listAddresses(argument: _brine_v1_ListAddressesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  listAddresses(argument: _brine_v1_ListAddressesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  listAddresses(argument: _brine_v1_ListAddressesRequest, callback: grpc.requestCallback<_brine_v1_ListAddressesResponse__Output>): grpc.ClientUnaryCall;
  
  ListJobs(argument: _brine_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _brine_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _brine_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _brine_v1_ListJobsRequest, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _brine_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _brine_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _brine_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _brine_v1_ListJobsRequest, callback: grpc.requestCallback<_brine_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  
  ListSites(argument: _brine_v1_ListSitesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  ListSites(argument: _brine_v1_ListSitesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  ListSites(argument: _brine_v1_ListSitesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  ListSites(argument: _brine_v1_ListSitesRequest, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  listSites(argument: _brine_v1_ListSitesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  listSites(argument: _brine_v1_ListSitesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  listSites(argument: _brine_v1_ListSitesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  listSites(argument: _brine_v1_ListSitesRequest, callback: grpc.requestCallback<_brine_v1_ListSitesResponse__Output>): grpc.ClientUnaryCall;
  
  ListSnapshots(argument: _brine_v1_ListSnapshotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  ListSnapshots(argument: _brine_v1_ListSnapshotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  ListSnapshots(argument: _brine_v1_ListSnapshotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  ListSnapshots(argument: _brine_v1_ListSnapshotsRequest, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  listSnapshots(argument: _brine_v1_ListSnapshotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  listSnapshots(argument: _brine_v1_ListSnapshotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  listSnapshots(argument: _brine_v1_ListSnapshotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  listSnapshots(argument: _brine_v1_ListSnapshotsRequest, callback: grpc.requestCallback<_brine_v1_ListSnapshotsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A job's VM consoles (one VM, or all): the whole history, then with `follow` what they print
   * next, wherever the job runs (the stream follows it across moves).
   */
  Logs(argument: _brine_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_LogChunk__Output>;
  Logs(argument: _brine_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_LogChunk__Output>;
  /**
   * A job's VM consoles (one VM, or all): the whole history, then with `follow` what they print
   * next, wherever the job runs (the stream follows it across moves).
   */
  logs(argument: _brine_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_LogChunk__Output>;
  logs(argument: _brine_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_LogChunk__Output>;
  
  /**
   * Moves a running or suspended job to another site (snapshot, transfer, fresh leases, restore).
   */
  MigrateJob(argument: _brine_v1_MigrateJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  MigrateJob(argument: _brine_v1_MigrateJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  MigrateJob(argument: _brine_v1_MigrateJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  MigrateJob(argument: _brine_v1_MigrateJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  /**
   * Moves a running or suspended job to another site (snapshot, transfer, fresh leases, restore).
   */
  migrateJob(argument: _brine_v1_MigrateJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  migrateJob(argument: _brine_v1_MigrateJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  migrateJob(argument: _brine_v1_MigrateJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  migrateJob(argument: _brine_v1_MigrateJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * `brine output`: the files of an ended job's output disks, read at the site it ended on
   */
  ReadOutput(argument: _brine_v1_ReadOutputRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  ReadOutput(argument: _brine_v1_ReadOutputRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  /**
   * `brine output`: the files of an ended job's output disks, read at the site it ended on
   */
  readOutput(argument: _brine_v1_ReadOutputRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  readOutput(argument: _brine_v1_ReadOutputRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_OutputChunk__Output>;
  
  /**
   * The site's batch scheduler takes nodes back: their clusters are checkpointed and moved.
   */
  ReclaimNodes(argument: _brine_v1_ReclaimNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReclaimNodes(argument: _brine_v1_ReclaimNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReclaimNodes(argument: _brine_v1_ReclaimNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReclaimNodes(argument: _brine_v1_ReclaimNodesRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  /**
   * The site's batch scheduler takes nodes back: their clusters are checkpointed and moved.
   */
  reclaimNodes(argument: _brine_v1_ReclaimNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  reclaimNodes(argument: _brine_v1_ReclaimNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  reclaimNodes(argument: _brine_v1_ReclaimNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  reclaimNodes(argument: _brine_v1_ReclaimNodesRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  
  /**
   * The nodes are free for best-effort work again.
   */
  ReleaseNodes(argument: _brine_v1_ReleaseNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReleaseNodes(argument: _brine_v1_ReleaseNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReleaseNodes(argument: _brine_v1_ReleaseNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  ReleaseNodes(argument: _brine_v1_ReleaseNodesRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  /**
   * The nodes are free for best-effort work again.
   */
  releaseNodes(argument: _brine_v1_ReleaseNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  releaseNodes(argument: _brine_v1_ReleaseNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  releaseNodes(argument: _brine_v1_ReleaseNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  releaseNodes(argument: _brine_v1_ReleaseNodesRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  
  /**
   * (admin) forgets a DOWN site that no live job is placed on, freeing its pool and MAC range
   */
  RemoveSite(argument: _brine_v1_RemoveSiteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  RemoveSite(argument: _brine_v1_RemoveSiteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  RemoveSite(argument: _brine_v1_RemoveSiteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  RemoveSite(argument: _brine_v1_RemoveSiteRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  /**
   * (admin) forgets a DOWN site that no live job is placed on, freeing its pool and MAC range
   */
  removeSite(argument: _brine_v1_RemoveSiteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  removeSite(argument: _brine_v1_RemoveSiteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  removeSite(argument: _brine_v1_RemoveSiteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  removeSite(argument: _brine_v1_RemoveSiteRequest, callback: grpc.requestCallback<_brine_v1_Site__Output>): grpc.ClientUnaryCall;
  
  /**
   * Recreates a SUSPENDED job from its latest snapshot.
   */
  ResumeJob(argument: _brine_v1_ResumeJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  ResumeJob(argument: _brine_v1_ResumeJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  ResumeJob(argument: _brine_v1_ResumeJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  ResumeJob(argument: _brine_v1_ResumeJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  /**
   * Recreates a SUSPENDED job from its latest snapshot.
   */
  resumeJob(argument: _brine_v1_ResumeJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  resumeJob(argument: _brine_v1_ResumeJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  resumeJob(argument: _brine_v1_ResumeJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  resumeJob(argument: _brine_v1_ResumeJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * A coordinated snapshot of a running job now.
   */
  SnapshotJob(argument: _brine_v1_SnapshotJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  SnapshotJob(argument: _brine_v1_SnapshotJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  SnapshotJob(argument: _brine_v1_SnapshotJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  SnapshotJob(argument: _brine_v1_SnapshotJobRequest, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  /**
   * A coordinated snapshot of a running job now.
   */
  snapshotJob(argument: _brine_v1_SnapshotJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  snapshotJob(argument: _brine_v1_SnapshotJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  snapshotJob(argument: _brine_v1_SnapshotJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  snapshotJob(argument: _brine_v1_SnapshotJobRequest, callback: grpc.requestCallback<_brine_v1_Snapshot__Output>): grpc.ClientUnaryCall;
  
  SubmitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * Final snapshot, then the VMs are stopped and the job's nodes freed (SUSPENDED).
   */
  SuspendJob(argument: _brine_v1_SuspendJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SuspendJob(argument: _brine_v1_SuspendJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SuspendJob(argument: _brine_v1_SuspendJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SuspendJob(argument: _brine_v1_SuspendJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  /**
   * Final snapshot, then the VMs are stopped and the job's nodes freed (SUSPENDED).
   */
  suspendJob(argument: _brine_v1_SuspendJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  suspendJob(argument: _brine_v1_SuspendJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  suspendJob(argument: _brine_v1_SuspendJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  suspendJob(argument: _brine_v1_SuspendJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * Live events until the client goes away; with `job` set, only that job's.
   */
  Watch(argument: _brine_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_Event__Output>;
  Watch(argument: _brine_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_Event__Output>;
  /**
   * Live events until the client goes away; with `job` set, only that job's.
   */
  watch(argument: _brine_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_Event__Output>;
  watch(argument: _brine_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_brine_v1_Event__Output>;
  
}

export interface JobServiceHandlers extends grpc.UntypedServiceImplementation {
  CancelJob: grpc.handleUnaryCall<_brine_v1_CancelJobRequest__Output, _brine_v1_Job>;
  
  GetJob: grpc.handleUnaryCall<_brine_v1_GetJobRequest__Output, _brine_v1_Job>;
  
  ListAddresses: grpc.handleUnaryCall<_brine_v1_ListAddressesRequest__Output, _brine_v1_ListAddressesResponse>;
  
  ListJobs: grpc.handleUnaryCall<_brine_v1_ListJobsRequest__Output, _brine_v1_ListJobsResponse>;
  
  ListSites: grpc.handleUnaryCall<_brine_v1_ListSitesRequest__Output, _brine_v1_ListSitesResponse>;
  
  ListSnapshots: grpc.handleUnaryCall<_brine_v1_ListSnapshotsRequest__Output, _brine_v1_ListSnapshotsResponse>;
  
  /**
   * A job's VM consoles (one VM, or all): the whole history, then with `follow` what they print
   * next, wherever the job runs (the stream follows it across moves).
   */
  Logs: grpc.handleServerStreamingCall<_brine_v1_LogsRequest__Output, _brine_v1_LogChunk>;
  
  /**
   * Moves a running or suspended job to another site (snapshot, transfer, fresh leases, restore).
   */
  MigrateJob: grpc.handleUnaryCall<_brine_v1_MigrateJobRequest__Output, _brine_v1_Job>;
  
  /**
   * `brine output`: the files of an ended job's output disks, read at the site it ended on
   */
  ReadOutput: grpc.handleServerStreamingCall<_brine_v1_ReadOutputRequest__Output, _brine_v1_OutputChunk>;
  
  /**
   * The site's batch scheduler takes nodes back: their clusters are checkpointed and moved.
   */
  ReclaimNodes: grpc.handleUnaryCall<_brine_v1_ReclaimNodesRequest__Output, _brine_v1_Site>;
  
  /**
   * The nodes are free for best-effort work again.
   */
  ReleaseNodes: grpc.handleUnaryCall<_brine_v1_ReleaseNodesRequest__Output, _brine_v1_Site>;
  
  /**
   * (admin) forgets a DOWN site that no live job is placed on, freeing its pool and MAC range
   */
  RemoveSite: grpc.handleUnaryCall<_brine_v1_RemoveSiteRequest__Output, _brine_v1_Site>;
  
  /**
   * Recreates a SUSPENDED job from its latest snapshot.
   */
  ResumeJob: grpc.handleUnaryCall<_brine_v1_ResumeJobRequest__Output, _brine_v1_Job>;
  
  /**
   * A coordinated snapshot of a running job now.
   */
  SnapshotJob: grpc.handleUnaryCall<_brine_v1_SnapshotJobRequest__Output, _brine_v1_Snapshot>;
  
  SubmitJob: grpc.handleUnaryCall<_brine_v1_SubmitJobRequest__Output, _brine_v1_Job>;
  
  /**
   * Final snapshot, then the VMs are stopped and the job's nodes freed (SUSPENDED).
   */
  SuspendJob: grpc.handleUnaryCall<_brine_v1_SuspendJobRequest__Output, _brine_v1_Job>;
  
  /**
   * Live events until the client goes away; with `job` set, only that job's.
   */
  Watch: grpc.handleServerStreamingCall<_brine_v1_WatchRequest__Output, _brine_v1_Event>;
  
}

export interface JobServiceDefinition extends grpc.ServiceDefinition {
  CancelJob: MethodDefinition<_brine_v1_CancelJobRequest, _brine_v1_Job, _brine_v1_CancelJobRequest__Output, _brine_v1_Job__Output>
  GetJob: MethodDefinition<_brine_v1_GetJobRequest, _brine_v1_Job, _brine_v1_GetJobRequest__Output, _brine_v1_Job__Output>
  ListAddresses: MethodDefinition<_brine_v1_ListAddressesRequest, _brine_v1_ListAddressesResponse, _brine_v1_ListAddressesRequest__Output, _brine_v1_ListAddressesResponse__Output>
  ListJobs: MethodDefinition<_brine_v1_ListJobsRequest, _brine_v1_ListJobsResponse, _brine_v1_ListJobsRequest__Output, _brine_v1_ListJobsResponse__Output>
  ListSites: MethodDefinition<_brine_v1_ListSitesRequest, _brine_v1_ListSitesResponse, _brine_v1_ListSitesRequest__Output, _brine_v1_ListSitesResponse__Output>
  ListSnapshots: MethodDefinition<_brine_v1_ListSnapshotsRequest, _brine_v1_ListSnapshotsResponse, _brine_v1_ListSnapshotsRequest__Output, _brine_v1_ListSnapshotsResponse__Output>
  Logs: MethodDefinition<_brine_v1_LogsRequest, _brine_v1_LogChunk, _brine_v1_LogsRequest__Output, _brine_v1_LogChunk__Output>
  MigrateJob: MethodDefinition<_brine_v1_MigrateJobRequest, _brine_v1_Job, _brine_v1_MigrateJobRequest__Output, _brine_v1_Job__Output>
  ReadOutput: MethodDefinition<_brine_v1_ReadOutputRequest, _brine_v1_OutputChunk, _brine_v1_ReadOutputRequest__Output, _brine_v1_OutputChunk__Output>
  ReclaimNodes: MethodDefinition<_brine_v1_ReclaimNodesRequest, _brine_v1_Site, _brine_v1_ReclaimNodesRequest__Output, _brine_v1_Site__Output>
  ReleaseNodes: MethodDefinition<_brine_v1_ReleaseNodesRequest, _brine_v1_Site, _brine_v1_ReleaseNodesRequest__Output, _brine_v1_Site__Output>
  RemoveSite: MethodDefinition<_brine_v1_RemoveSiteRequest, _brine_v1_Site, _brine_v1_RemoveSiteRequest__Output, _brine_v1_Site__Output>
  ResumeJob: MethodDefinition<_brine_v1_ResumeJobRequest, _brine_v1_Job, _brine_v1_ResumeJobRequest__Output, _brine_v1_Job__Output>
  SnapshotJob: MethodDefinition<_brine_v1_SnapshotJobRequest, _brine_v1_Snapshot, _brine_v1_SnapshotJobRequest__Output, _brine_v1_Snapshot__Output>
  SubmitJob: MethodDefinition<_brine_v1_SubmitJobRequest, _brine_v1_Job, _brine_v1_SubmitJobRequest__Output, _brine_v1_Job__Output>
  SuspendJob: MethodDefinition<_brine_v1_SuspendJobRequest, _brine_v1_Job, _brine_v1_SuspendJobRequest__Output, _brine_v1_Job__Output>
  Watch: MethodDefinition<_brine_v1_WatchRequest, _brine_v1_Event, _brine_v1_WatchRequest__Output, _brine_v1_Event__Output>
}
