// The file-system calls that write to the store, behind a small interface: the store's crash and
// disk-full behaviour is tested by injecting failures here (and, for real, on a tiny tmpfs).
import { open, rename, unlink } from 'node:fs/promises';

export interface StoreFs {
  /** Creates `path` (which must not exist), writes `data`, fsyncs and closes it. May leave a partial file on failure. */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync of a directory, so that renames into it survive a power loss. */
  fsyncDir(path: string): Promise<void>;
}

export const nodeFs: StoreFs = {
  async writeNew(path, data) {
    const fh = await open(path, 'wx');
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await fh.write(data, off, data.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  async fsyncDir(path) {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
