// gRPC server metrics under the names of the ecosystem (go-grpc-prometheus): every call on a
// server, by service, method, type and status code, with its handling time. A grpc-js server
// interceptor, so each server gets them for every service it serves (health checks included)
// without touching a handler.
import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';

type CallType = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

function callType(def: { requestStream: boolean; responseStream: boolean }): CallType {
  if (def.requestStream) return def.responseStream ? 'bidi_stream' : 'client_stream';
  return def.responseStream ? 'server_stream' : 'unary';
}

/** `/brine.v1.JobService/SubmitJob` → service and method (bounded: the proto's own names). */
export function splitPath(path: string): { service: string; method: string } {
  const [, service = 'unknown', method = 'unknown'] = path.split('/');
  return { service, method };
}

export function statusName(code: number): string {
  return grpc.status[code] ?? String(code);
}

/** A server interceptor recording `grpc_server_started_total`, `grpc_server_handled_total` and `grpc_server_handling_seconds` in `registry`. */
export function grpcMetricsInterceptor(registry: Registry, now: () => number = () => performance.now()): grpc.ServerInterceptor {
  const labelNames = ['grpc_service', 'grpc_method', 'grpc_type'] as const;
  const started = new Counter({ name: 'grpc_server_started_total', help: 'RPCs started on the server.', labelNames, registers: [registry] });
  const handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, whatever their status code.',
    labelNames: [...labelNames, 'grpc_code'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from the start of an RPC to its status, in seconds (streams included).',
    labelNames,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120, 600],
    registers: [registry],
  });
  return (def, call) => {
    const { service, method } = splitPath(def.path);
    const labels = { grpc_service: service, grpc_method: method, grpc_type: callType(def) };
    const t0 = now();
    started.inc(labels);
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      handled.inc({ ...labels, grpc_code: statusName(code) });
      seconds.observe(labels, (now() - t0) / 1000);
    };
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(new grpc.ServerListenerBuilder().withOnCancel(() => finish(grpc.status.CANCELLED)).build()))
      .withSendStatus((status, next) => {
        finish(status.code);
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
