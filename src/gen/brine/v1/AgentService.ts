// Original file: proto/brine/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';
import type { DeployClusterRequest as _brine_v1_DeployClusterRequest, DeployClusterRequest__Output as _brine_v1_DeployClusterRequest__Output } from '../../brine/v1/DeployClusterRequest.js';
import type { DestroyClusterRequest as _brine_v1_DestroyClusterRequest, DestroyClusterRequest__Output as _brine_v1_DestroyClusterRequest__Output } from '../../brine/v1/DestroyClusterRequest.js';
import type { GetStatusRequest as _brine_v1_GetStatusRequest, GetStatusRequest__Output as _brine_v1_GetStatusRequest__Output } from '../../brine/v1/GetStatusRequest.js';
import type { GetStatusResponse as _brine_v1_GetStatusResponse, GetStatusResponse__Output as _brine_v1_GetStatusResponse__Output } from '../../brine/v1/GetStatusResponse.js';

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
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  DeployCluster: grpc.handleUnaryCall<_brine_v1_DeployClusterRequest__Output, _brine_v1_ClusterStatus>;
  
  DestroyCluster: grpc.handleUnaryCall<_brine_v1_DestroyClusterRequest__Output, _brine_v1_ClusterStatus>;
  
  GetStatus: grpc.handleUnaryCall<_brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  DeployCluster: MethodDefinition<_brine_v1_DeployClusterRequest, _brine_v1_ClusterStatus, _brine_v1_DeployClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  DestroyCluster: MethodDefinition<_brine_v1_DestroyClusterRequest, _brine_v1_ClusterStatus, _brine_v1_DestroyClusterRequest__Output, _brine_v1_ClusterStatus__Output>
  GetStatus: MethodDefinition<_brine_v1_GetStatusRequest, _brine_v1_GetStatusResponse, _brine_v1_GetStatusRequest__Output, _brine_v1_GetStatusResponse__Output>
}
