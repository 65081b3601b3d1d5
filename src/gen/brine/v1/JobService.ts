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
import type { SubmitJobRequest as _brine_v1_SubmitJobRequest, SubmitJobRequest__Output as _brine_v1_SubmitJobRequest__Output } from '../../brine/v1/SubmitJobRequest.js';
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
  
  SubmitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _brine_v1_SubmitJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _brine_v1_SubmitJobRequest, callback: grpc.requestCallback<_brine_v1_Job__Output>): grpc.ClientUnaryCall;
  
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
  
  SubmitJob: grpc.handleUnaryCall<_brine_v1_SubmitJobRequest__Output, _brine_v1_Job>;
  
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
  SubmitJob: MethodDefinition<_brine_v1_SubmitJobRequest, _brine_v1_Job, _brine_v1_SubmitJobRequest__Output, _brine_v1_Job__Output>
  Watch: MethodDefinition<_brine_v1_WatchRequest, _brine_v1_Event, _brine_v1_WatchRequest__Output, _brine_v1_Event__Output>
}
