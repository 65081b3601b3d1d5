// Small file-system questions asked in several places, with ENOENT as an answer, not an error.
import { stat } from 'node:fs/promises';

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Whether `path` exists (any other error, e.g. EACCES, is thrown). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (missing(err)) return false;
    throw err;
  }
}

/** The size of `file` in bytes, 0 when it does not exist. */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if (missing(err)) return 0;
    throw err;
  }
}
