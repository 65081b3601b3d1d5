// The store's one way of writing a small file (manifest, import record, store.json): to a temp
// file, fsynced, renamed into place, the directory fsynced. A failure leaves nothing at `path`.
import { dirname } from 'node:path';
import type { StoreFs } from './fs-port.js';

const ignore = (): void => undefined;

export async function writeAtomic(fs: StoreFs, tmp: string, path: string, data: Uint8Array): Promise<void> {
  let renamed = false;
  try {
    await fs.writeNew(tmp, data);
    await fs.rename(tmp, path);
    renamed = true;
    await fs.fsyncDir(dirname(path));
  } catch (err) {
    // A rename not known durable (the directory fsync failed) must not stay either: the file
    // would half-exist (a manifest that a power loss could take back).
    await fs.unlink(renamed ? path : tmp).catch(ignore);
    throw err;
  }
}
