// Structured logs: one JSON event per line, child loggers carry job/site/vm ids.
import { pino } from 'pino';

export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(name: string, level: string = process.env.BRINE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { program: name } });
}

/** For tests: drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
