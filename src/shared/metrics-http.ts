// `/metrics` over plain HTTP for Prometheus (README, Monitoring): one small server per program on
// its `metrics.listen`, answering GET /metrics from a prom-client registry and nothing else.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { hostPort } from './config.js';
import type { Logger } from './logger.js';

/** `metrics:` in the coordinator's and the agents' config; absent: no endpoint. */
export const metricsConfigSchema = z.strictObject({
  /** HOST:PORT of the plain-HTTP `/metrics` endpoint: a loopback or management address */
  listen: hostPort,
});

export type MetricsConfig = z.output<typeof metricsConfigSchema>;

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** Splits HOST:PORT (also [v6]:PORT) for `listen()`. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
}

/** Listens on `address` and resolves once bound (port 0: a free one, in `port`). */
export function listenHttp(server: Server, address: string): Promise<number> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Serves `registry` at GET /metrics on `address`. */
export async function serveMetrics(address: string, registry: Registry, log: Logger): Promise<HttpEndpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only: GET /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed; see the program log\n');
      },
    );
  });
  const port = await listenHttp(server, address);
  log.info({ listen: address, port }, 'metrics listening');
  return { port, close: () => closeHttp(server) };
}
