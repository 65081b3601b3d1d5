// Everything the CLI prints goes through here: one JSON document (or one per line for streams)
// under --json, otherwise plain aligned tables and short sentences. Errors go to stderr.
import { BrineError } from '../shared/errors.js';
import { formatBytes } from '../shared/units.js';
import { CommandFailed } from './context.js';

export type CellValue = string | number | boolean | null | undefined;

/** Exactly one JSON document on stdout, 2-space indent. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One compact JSON object per line (for streams such as `watch`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A short sentence on stdout. */
export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A note for the human on stderr (never mixed into stdout, so scripts keep parsing it). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Tables show missing values as `-` so that columns stay aligned and visibly empty. */
export function cell(value: CellValue): string {
  if (value === undefined || value === null) return '-';
  const text = String(value);
  return text === '' ? '-' : text;
}

/** Columns a string takes on a terminal: East Asian wide and fullwidth characters take two. */
function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    w += c >= 0x1100 && (c <= 0x115f || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd)) ? 2 : 1;
  }
  return w;
}

/**
 * Renders an aligned table (header + rows) as a string without a trailing newline: borderless,
 * columns separated by two spaces, like `kubectl get`. Linear in the cells (cli-table3, used
 * before, took 83 s for 10k rows; this takes milliseconds, as `--json` does).
 */
export function renderTable(head: string[], rows: CellValue[][]): string {
  const lines = [head, ...rows.map((r) => head.map((_, c) => cell(r[c]).replace(/[\r\n]+/g, ' ')))];
  const widths = head.map(() => 0);
  const cellWidths = lines.map((line) =>
    line.map((v, c) => {
      const w = displayWidth(v);
      if (w > (widths[c] as number)) widths[c] = w;
      return w;
    }),
  );
  return lines
    .map((line, i) =>
      line
        .map((v, c) => (c === line.length - 1 ? v : v + ' '.repeat((widths[c] as number) - (cellWidths[i]?.[c] as number) + 2)))
        .join('')
        .trimEnd(),
    )
    .filter((line) => line !== '')
    .join('\n');
}

export function printTable(head: string[], rows: CellValue[][]): void {
  say(renderTable(head, rows));
}

/** `key: value` lines with the values aligned. */
export function renderBlock(pairs: Array<[string, CellValue]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n');
}

/** Relative age of an ISO time: `45s`, `12m`, `3h`, `5d` (tables); `-` when unknown. */
export function age(iso: string, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** `2024-05-01T10:00:00.000Z (3m ago)` for detail views, where both matter. */
export function timeAndAge(iso: string, now: number = Date.now()): string {
  if (!iso) return '-';
  const a = age(iso, now);
  return a === iso ? iso : `${iso} (${a} ago)`;
}

export interface ErrorDocument {
  error: { code: string; message: string; field?: string };
  [extra: string]: unknown;
}

/** The `--json` shape of any error. */
export function errorDocument(err: unknown): ErrorDocument {
  if (err instanceof BrineError) {
    const error: ErrorDocument['error'] = { code: err.code, message: err.message };
    if (err.field) error.field = err.field;
    return { error };
  }
  if (err instanceof CommandFailed) {
    return { error: { code: err.code, message: err.message }, ...(err.details ?? {}) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'INTERNAL', message } };
}

/**
 * Prints an error: always one line `brine: <message>` on stderr; under --json also the error
 * document on stdout (compact when the command streams JSON lines, so the stream stays parseable).
 */
export function printError(err: unknown, opts: { json: boolean; jsonLines?: boolean }): void {
  const doc = errorDocument(err);
  process.stderr.write(`brine: ${doc.error.message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (opts.json) {
    if (opts.jsonLines) printJsonLine(doc);
    else printJson(doc);
  }
}

export interface Progress {
  /** Sets the current value (and optionally a new total, and a note shown after the bar, e.g. rate and ETA). */
  update(value: number, total?: number, note?: string): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/**
 * A progress bar on stderr for long operations; a no-op unless stderr is a TTY and --json is off
 * (bars in logs or pipes are noise). cli-progress is loaded only when a bar is really shown.
 */
export async function createProgress(label: string, total: number, opts: { json: boolean; bytes?: boolean }): Promise<Progress> {
  if (opts.json || !process.stderr.isTTY) return NO_PROGRESS;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {amount} | {duration_formatted}{note}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  // bytes: counted exactly (a bar in rounded MiB would sit at 0/1 for a small snapshot), shown in units
  const amount = (value: number, of: number): string => (opts.bytes ? `${formatBytes(value)}/${formatBytes(of)}` : `${value}/${of}`);
  bar.start(total, 0, { note: '', amount: amount(0, total) });
  return {
    update(value, newTotal, note) {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(value, { amount: amount(value, bar.getTotal()), ...(note === undefined ? {} : { note: note ? ` | ${note}` : '' }) });
    },
    stop() {
      bar.stop();
    },
  };
}
