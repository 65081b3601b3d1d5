// Original file: proto/brine/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadConsoleRequest {
  'jobId'?: (string);
  'vm'?: (string);
  'offset'?: (number | string | Long);
  'follow'?: (boolean);
}

export interface ReadConsoleRequest__Output {
  'jobId': (string);
  'vm': (string);
  'offset': (number);
  'follow': (boolean);
}
