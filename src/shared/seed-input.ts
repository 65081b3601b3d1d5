// Rules for what a job brings into its VMs' cloud-init NoCloud seed (issue 12): the user-data bytes
// and the extra meta-data keys. Pure; shared by the CLI (checks before sending), the coordinator
// (the authority: checks every SubmitJob) and the agent (checks every spec it builds a seed from).
import { InvalidArgumentError } from './errors.js';

/** The coordinator's default `limits.userDataMaxKiB`. */
export const USER_DATA_DEFAULT_MAX_KIB = 64;
/** No coordinator may be configured above this (the CLI refuses larger files without sending them). */
export const USER_DATA_CEILING_KIB = 1024;

/** Keys of the meta-data that brine writes itself: a user may not set them. */
export const RESERVED_META_KEYS: ReadonlySet<string> = new Set(['instance-id', 'local-hostname']);
/** A meta key: what a cloud-init datasource key looks like, safe unquoted in YAML. */
export const META_KEY = /^[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?$/;
export const META_MAX_KEYS = 32;
export const META_VALUE_MAX = 1024;

const shown = (s: string): string => (s.length <= 60 ? s : `${s.slice(0, 60)}…`);

/** Throws INVALID_ARGUMENT on `field` when `size` bytes of user-data are more than `maxBytes`. */
export function checkUserData(size: number, maxBytes: number, field = 'userData'): void {
  if (size > maxBytes) {
    throw new InvalidArgumentError(field, `is ${size} bytes; at most ${maxBytes} bytes (${maxBytes / 1024} KiB) are accepted: put large inputs on an image or fetch them from the script`);
  }
}

/** Throws INVALID_ARGUMENT on `field` (or `field.KEY`) for a bad key or value, a reserved key or too many. */
export function checkMeta(meta: Readonly<Record<string, string>>, field = 'meta'): void {
  const keys = Object.keys(meta);
  if (keys.length > META_MAX_KEYS) throw new InvalidArgumentError(field, `at most ${META_MAX_KEYS} keys, got ${keys.length}`);
  for (const key of keys) {
    if (!META_KEY.test(key)) {
      throw new InvalidArgumentError(field, `key "${shown(key)}" must be 1–64 characters of [a-z0-9_.-], starting and ending with a letter or digit`);
    }
    if (RESERVED_META_KEYS.has(key)) throw new InvalidArgumentError(`${field}.${key}`, 'is set by brine (the VM name and its instance id); choose another key');
    const value = meta[key] as string;
    if (value.length > META_VALUE_MAX) throw new InvalidArgumentError(`${field}.${key}`, `at most ${META_VALUE_MAX} characters, got ${value.length}`);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`${field}.${key}`, 'must not contain control characters (newlines, tabs…)');
  }
}

/** `KEY=VALUE` flags → a map; throws INVALID_ARGUMENT on `flag` for a malformed or repeated one. */
export function parseMetaFlags(pairs: readonly string[], flag = '--meta'): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(flag, `expected KEY=VALUE, got "${shown(pair)}"`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(meta, key)) throw new InvalidArgumentError(flag, `key "${shown(key)}" given twice`);
    meta[key] = pair.slice(eq + 1);
  }
  checkMeta(meta, flag);
  return meta;
}
