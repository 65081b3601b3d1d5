// The file-system calls that write to the store, behind a small interface: the store's crash and
// disk-full behaviour is tested by injecting failures here (and, for real, on a tiny tmpfs).
import { open, rename, unlink } from 'node:fs/promises';

/** A file being appended to (a pack): writes go at the end, in call order. */
export interface AppendFile {
  /** Appends `parts` (one writev); may leave a partial write behind on failure. */
  append(parts: readonly Uint8Array[]): Promise<void>;
  /** fdatasync: what was appended survives a power loss. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFs {
  /** Creates `path` (which must not exist), writes `data`, fsyncs and closes it. May leave a partial file on failure. */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  /** Creates `path` (which must not exist) to append to. */
  createAppend(path: string): Promise<AppendFile>;
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
  async createAppend(path) {
    const fh = await open(path, 'wx');
    return {
      async append(parts) {
        let pending = parts.filter((p) => p.length > 0);
        while (pending.length > 0) {
          let { bytesWritten } = await fh.writev(pending);
          // a short write: continue with what is left
          const rest: Uint8Array[] = [];
          for (const p of pending) {
            if (bytesWritten >= p.length) bytesWritten -= p.length;
            else {
              rest.push(bytesWritten > 0 ? p.subarray(bytesWritten) : p);
              bytesWritten = 0;
            }
          }
          pending = rest;
        }
      },
      datasync: () => fh.datasync(),
      close: () => fh.close(),
    };
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
