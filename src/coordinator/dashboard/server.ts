// The coordinator's live, read-only web dashboard (README, Monitoring): one page and its script
// and style (web/dashboard/, served from this machine: no asset from elsewhere), `GET /api/state`
// (view.ts) and `GET /api/events`, the coordinator's event stream as server-sent events. No
// authentication: it binds to loopback only (the config refuses anything else).
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { hostPort } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { closeHttp, listenHttp, splitHostPort, type HttpEndpoint } from '../../shared/metrics-http.js';
import type { BrineEvent } from '../../shared/proto.js';
import type { Listener } from '../events.js';
import { TransferTracker } from './transfers.js';
import { dashboardState, type DashboardSource } from './view.js';

export function isLoopback(address: string): boolean {
  const { host } = splitHostPort(address);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `dashboard:` in the coordinator's config; absent: no dashboard. */
export const dashboardConfigSchema = z.strictObject({
  listen: hostPort.refine(isLoopback, {
    message: 'the dashboard has no login of its own: bind it to loopback (127.0.0.1:PORT or [::1]:PORT) and reach it through an SSH tunnel',
  }),
});

export interface DashboardDeps extends DashboardSource {
  events: { subscribe(listener: Listener): () => void };
}

/** web/dashboard/ of the repository (from dist/src/coordinator/dashboard/ or src/coordinator/dashboard/) */
const WEB_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../../web/dashboard/' : '../../../web/dashboard/', import.meta.url));

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const HEADERS = {
  // everything from this server, nothing inline or from elsewhere
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** SSE keep-alive, so proxies and the browser see a live stream between events */
const PING_MS = 15_000;

export async function serveDashboard(address: string, deps: DashboardDeps, log: Logger, now: () => number = Date.now): Promise<HttpEndpoint> {
  const assets = new Map(Object.entries(ASSETS).map(([path, a]) => [path, { type: a.type, body: readFileSync(WEB_DIR + a.file) }]));
  const transfers = new TransferTracker();
  const streams = new Set<ServerResponse>();
  const unsubscribe = deps.events.subscribe((e: BrineEvent | null) => {
    if (!e) {
      for (const res of streams) res.end();
      streams.clear();
      return;
    }
    transfers.handle(e);
    const frame = `data: ${JSON.stringify(e)}\n\n`;
    for (const res of streams) res.write(frame);
  });
  const ping = setInterval(() => {
    for (const res of streams) res.write(': ping\n\n');
  }, PING_MS);
  ping.unref();

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the dashboard is read-only\n');
      return;
    }
    const asset = assets.get(path);
    if (asset) {
      res.writeHead(200, { ...HEADERS, 'content-type': asset.type }).end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, HEADERS).end(); // no icon, and no 404 in the browser's console
      return;
    }
    if (path === '/api/state') {
      try {
        const body = JSON.stringify(dashboardState(deps, transfers.list(now()), now()));
        res.writeHead(200, { ...HEADERS, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'dashboard: cannot build the state');
        res.writeHead(500, { ...HEADERS, 'content-type': 'text/plain' }).end('cannot build the state; see the coordinator log\n');
      }
      return;
    }
    if (path === '/api/events') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('not found\n');
  });
  const port = await listenHttp(server, address);
  log.info({ listen: address, port, url: `http://${address.replace(/:\d+$/, `:${port}`)}/` }, 'dashboard listening');
  return {
    port,
    close: async () => {
      unsubscribe();
      clearInterval(ping);
      for (const res of streams) res.end();
      streams.clear();
      await closeHttp(server);
    },
  };
}
