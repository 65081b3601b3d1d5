// Reads `submit --user-data FILE` before anything is sent: a missing or unreadable file, or one
// larger than any coordinator accepts, is an INVALID_ARGUMENT (exit 2) naming the flag. The
// coordinator then applies its own, possibly lower, limit (`limits.userDataMaxKiB`).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '../shared/errors.js';
import { USER_DATA_CEILING_KIB, checkUserData } from '../shared/seed-input.js';

const CEILING = USER_DATA_CEILING_KIB * 1024;

function reason(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** The file's bytes; never reads more than the ceiling (+1, to tell it is over). */
export function readUserData(path: string, flag: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InvalidArgumentError(flag, `cannot read "${path}": ${reason(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InvalidArgumentError(flag, `cannot read "${path}": is a directory`);
    if (st.isFile()) checkUserData(st.size, CEILING, flag);
    // pipes and FIFOs have no size: read up to the ceiling and one byte more
    const buf = Buffer.alloc(CEILING + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (err) {
        throw new InvalidArgumentError(flag, `cannot read "${path}": ${reason(err)}`);
      }
      if (got === 0) break;
      n += got;
      checkUserData(n, CEILING, flag);
    }
    return Buffer.from(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
