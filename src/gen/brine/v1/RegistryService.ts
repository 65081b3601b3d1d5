// Original file: proto/brine/v1/coordinator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HeartbeatRequest as _brine_v1_HeartbeatRequest, HeartbeatRequest__Output as _brine_v1_HeartbeatRequest__Output } from '../../brine/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _brine_v1_HeartbeatResponse, HeartbeatResponse__Output as _brine_v1_HeartbeatResponse__Output } from '../../brine/v1/HeartbeatResponse.js';
import type { RegisterRequest as _brine_v1_RegisterRequest, RegisterRequest__Output as _brine_v1_RegisterRequest__Output } from '../../brine/v1/RegisterRequest.js';
import type { RegisterResponse as _brine_v1_RegisterResponse, RegisterResponse__Output as _brine_v1_RegisterResponse__Output } from '../../brine/v1/RegisterResponse.js';
import type { ReportStatusRequest as _brine_v1_ReportStatusRequest, ReportStatusRequest__Output as _brine_v1_ReportStatusRequest__Output } from '../../brine/v1/ReportStatusRequest.js';
import type { ReportStatusResponse as _brine_v1_ReportStatusResponse, ReportStatusResponse__Output as _brine_v1_ReportStatusResponse__Output } from '../../brine/v1/ReportStatusResponse.js';

export interface RegistryServiceClient extends grpc.Client {
  Heartbeat(argument: _brine_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _brine_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _brine_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _brine_v1_HeartbeatRequest, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _brine_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _brine_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _brine_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _brine_v1_HeartbeatRequest, callback: grpc.requestCallback<_brine_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  Register(argument: _brine_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _brine_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _brine_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _brine_v1_RegisterRequest, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _brine_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _brine_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _brine_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _brine_v1_RegisterRequest, callback: grpc.requestCallback<_brine_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Pushed by an agent as soon as it sees a VM change state by itself.
   */
  ReportStatus(argument: _brine_v1_ReportStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  ReportStatus(argument: _brine_v1_ReportStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  ReportStatus(argument: _brine_v1_ReportStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  ReportStatus(argument: _brine_v1_ReportStatusRequest, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Pushed by an agent as soon as it sees a VM change state by itself.
   */
  reportStatus(argument: _brine_v1_ReportStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  reportStatus(argument: _brine_v1_ReportStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  reportStatus(argument: _brine_v1_ReportStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  reportStatus(argument: _brine_v1_ReportStatusRequest, callback: grpc.requestCallback<_brine_v1_ReportStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RegistryServiceHandlers extends grpc.UntypedServiceImplementation {
  Heartbeat: grpc.handleUnaryCall<_brine_v1_HeartbeatRequest__Output, _brine_v1_HeartbeatResponse>;
  
  Register: grpc.handleUnaryCall<_brine_v1_RegisterRequest__Output, _brine_v1_RegisterResponse>;
  
  /**
   * Pushed by an agent as soon as it sees a VM change state by itself.
   */
  ReportStatus: grpc.handleUnaryCall<_brine_v1_ReportStatusRequest__Output, _brine_v1_ReportStatusResponse>;
  
}

export interface RegistryServiceDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_brine_v1_HeartbeatRequest, _brine_v1_HeartbeatResponse, _brine_v1_HeartbeatRequest__Output, _brine_v1_HeartbeatResponse__Output>
  Register: MethodDefinition<_brine_v1_RegisterRequest, _brine_v1_RegisterResponse, _brine_v1_RegisterRequest__Output, _brine_v1_RegisterResponse__Output>
  ReportStatus: MethodDefinition<_brine_v1_ReportStatusRequest, _brine_v1_ReportStatusResponse, _brine_v1_ReportStatusRequest__Output, _brine_v1_ReportStatusResponse__Output>
}
