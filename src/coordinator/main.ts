// brine-coordinator --config FILE
import { parseArgs } from 'node:util';
import { BrineError, exitCodeFor } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { loadCoordinatorConfig } from './config.js';
import { CoordinatorServer } from './server.js';
import { INSECURE_WARNING, transportFrom } from '../shared/tls.js';

async function main(): Promise<void> {
  let values: { config?: string | undefined; 'log-level'?: string | undefined; help?: boolean | undefined; insecure?: boolean | undefined; init?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' }, insecure: { type: 'boolean' }, init: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`brine-coordinator: ${(err as Error).message}\nusage: brine-coordinator --config FILE [--log-level LEVEL] [--insecure] [--init]\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(
      'usage: brine-coordinator --config FILE [--log-level debug|info|warn|error] [--insecure] [--init]\n' +
        '  --init  begin a new, empty grid on a data dir that held a grid and lost its state (refused over an existing state)\n',
    );
    return;
  }
  const config = loadCoordinatorConfig(values.config ?? 'config/coordinator.yaml');
  const log = createLogger('brine-coordinator', values['log-level']);
  const transport = transportFrom(config.tls, values.insecure === true, 'brine-coordinator');
  if (transport.kind === 'insecure') {
    process.stderr.write(`brine-coordinator: ${INSECURE_WARNING}\n`);
    log.warn({ insecure: true }, 'plaintext gRPC (--insecure): callers are not authenticated');
  }
  const server = await CoordinatorServer.create(config, log, transport, { init: values.init === true });
  // another coordinator leads now: stop acting at once (no graceful close: nothing can be written);
  // a supervisor starts this one again, as a standby
  server.leadership?.onLost((err) => {
    process.stderr.write(`brine-coordinator: ${err.message}; exiting\n`);
    process.exit(75);
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof BrineError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
  process.stderr.write(`brine-coordinator: ${message}\n`);
  process.exit(err instanceof BrineError ? exitCodeFor(err) : 1);
});
