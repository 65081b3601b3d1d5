// Runs the built `brine` CLI as a real process (node bin/brine.js …, cwd = the repo root), the way
// users and scripts do, and collects its exit code and output.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_FILES, cliEnv } from './pki.js';

/** The repo root, from dist/test/helpers/cli.js. */
export const CLI_REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const CLI_BIN = join(CLI_REPO_ROOT, 'bin', 'brine.js');

export interface CliOptions {
  /** Added to (or, with `undefined`, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
  /** Kill the CLI (SIGKILL) and fail after this long; default 30 s. */
  timeoutMs?: number;
  cwd?: string;
}

export interface CliResult {
  /** The exit code; null if the process died from a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as exactly one JSON document (throws with the output if it is not). */
  json<T = unknown>(): T;
  /** stdout parsed as one JSON document per non-empty line (`watch --json`). */
  jsonLines<T = unknown>(): T[];
}

export interface RunningCli {
  child: ChildProcess;
  /** Output so far (grows while the process runs). */
  readonly stdout: string;
  readonly stderr: string;
  result: Promise<CliResult>;
}

function parse<T>(text: string, what: string, out: { stdout: string; stderr: string }): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${what} is not JSON (${(err as Error).message})\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}`);
  }
}

/**
 * Starts the CLI without waiting for it (for `watch`, or to signal it). The inherited
 * BRINE_COORDINATOR is dropped so a developer's shell never leaks into a test. It acts as the
 * tests' admin (./pki.ts) unless `opts.env` names other credentials.
 */
export function spawnCli(args: string[], opts: CliOptions = {}): RunningCli {
  const env: Record<string, string | undefined> = { ...process.env, BRINE_COORDINATOR: undefined, ...cliEnv(ADMIN_FILES), ...opts.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: opts.cwd ?? CLI_REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const result = new Promise<CliResult>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`brine ${args.join(' ')} did not finish within ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = { stdout, stderr };
      res({
        code,
        signal,
        stdout,
        stderr,
        json: <T>() => parse<T>(stdout, 'stdout', out),
        jsonLines: <T>() =>
          stdout
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line, i) => parse<T>(line, `stdout line ${i + 1}`, out)),
      });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    result,
  };
}

/** Runs `brine <args>` to completion. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).result;
}
