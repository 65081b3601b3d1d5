// Durations ("30s", "10m", "1h30m") and sizes (MiB numbers, "512MiB", "2GiB").
import { InvalidArgumentError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest delay a Node timer takes (about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export function parseDurationMs(text: string, field: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) {
    const shown = text.length > 100 ? `${text.slice(0, 100)}…` : text;
    throw new InvalidArgumentError(field, `expected a duration such as 30s, 10m or 1h30m, got "${shown}"`);
  }
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  }
  if (total <= 0) throw new InvalidArgumentError(field, `must be longer than zero, got "${text}"`);
  // timers take at most 2^31-1 ms: a longer one would fire at once instead of never
  if (total > MAX_DURATION_MS) throw new InvalidArgumentError(field, `must be at most 24d, got "${text.slice(0, 100)}"`);
  return total;
}

/** A time left, to the second above (e.g. an ETA): "4s", "2m". */
export function formatEta(ms: number): string {
  return formatDuration(Math.max(1, Math.ceil(ms / 1000)) * 1000);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = { mib: 1, m: 1, gib: 1024, g: 1024, tib: 1024 * 1024 };

/** A size in MiB: a number is MiB, a string may carry MiB/GiB/TiB. */
export function parseSizeMiB(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidArgumentError(field, `must be a positive whole number of MiB, got ${value}`);
    }
    return value;
  }
  const m = /^\s*(\d+)\s*(MiB|GiB|TiB|M|G)?\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(field, `expected a size such as 512MiB or 2GiB, got "${value}"`);
  const n = Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'mib').toLowerCase()] as number);
  if (n <= 0) throw new InvalidArgumentError(field, `must be larger than zero, got "${value}"`);
  return n;
}

/** A byte count for people: "177.8 MiB" (`compact`: "177.8MiB", for table cells). */
export function formatBytes(n: number, compact = false): string {
  const sep = compact ? '' : ' ';
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)}${sep}GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)}${sep}MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)}${sep}KiB`;
  return `${n}${sep}B`;
}
