// What every command gets: the global options and a lazily created coordinator client.
// Kept free of gRPC imports so that commands failing local validation start and exit fast.
import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '../shared/errors.js';
import type { CoordinatorClient } from './client.js';

// a type alias, not an interface: commander's OptionValues needs an implicit index signature
export type GlobalOptions = {
  coordinator?: string | undefined;
  json?: true | undefined;
};

/** The root program as commands see it (global options typed). */
export type Program = Command<[], GlobalOptions, {}>;

export interface CliContext {
  /** `--json` was given. */
  readonly json: boolean;
  /** Set by streaming commands: errors then print as one JSON line too. */
  jsonLines: boolean;
  /** The coordinator address (resolved on first use: flag, env, config file, default). */
  address(): Promise<string>;
  /** The connected client; created on first use and closed at exit. */
  client(): Promise<CoordinatorClient>;
}

/**
 * A command finished but not the way the user asked (a waited-for job failed, a wait timed out).
 * Not a BrineError: it is not a coordinator error and always exits 1.
 */
export class CommandFailed extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Extra value printed with the error under `--json` (e.g. the job as it ended). */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>, exitCode = 1) {
    super(message);
    this.name = 'CommandFailed';
    this.code = code;
    this.details = details;
    this.exitCode = exitCode;
  }
}

const INT32_MAX = 2 ** 31 - 1;

/** A flag value that must be a positive whole number (fits the proto's int32). */
export function parsePositiveInt(text: string, flag: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) <= 0) {
    throw new InvalidArgumentError(flag, `must be a positive whole number, got "${text}"`);
  }
  const n = Number(trimmed);
  if (n > INT32_MAX) throw new InvalidArgumentError(flag, `is too large: ${text}`);
  return n;
}

const HOST_PORT = /^(?:[^\s:[\]]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/;

/** HOST:PORT or [IPv6]:PORT with a port in 1–65535. */
/** HOST:PORT, or several comma-separated (an HA grid's coordinators). */
export function checkAddress(value: string, field: string): string {
  const parts = value.split(',');
  if (parts.length > 1) return parts.map((p) => checkAddress(p, field)).join(',');
  const m = HOST_PORT.exec(value.trim());
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new InvalidArgumentError(field, `expected HOST:PORT such as 127.0.0.1:7700, got "${value}"`);
  }
  return value.trim();
}
