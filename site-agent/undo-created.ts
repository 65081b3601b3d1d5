// What a deploy or a restore created, and its removal when the operation fails: domains (newest
// first), files, then the cluster's network. Each removal is tried, and a failure is logged, not
// thrown: the caller is already failing with the error that matters.
import { errorMessage } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { LibvirtConnection } from './libvirt/types.js';

export interface Created {
  networks: LibvirtConnection[];
  domains: Array<{ conn: LibvirtConnection; name: string }>;
  files: string[];
}

export const nothingCreated = (): Created => ({ networks: [], domains: [], files: [] });

export interface UndoOptions {
  network: string;
  removeFile(path: string): Promise<void>;
  /** more to remove with each domain (its console, its QEMU log…) */
  withDomain?: (conn: LibvirtConnection, name: string) => Array<[what: string, remove: () => Promise<void>]>;
  log: Logger;
  /** what failed, for the log lines: "deploy", "restore" */
  what: string;
}

export async function undoCreated(created: Created, o: UndoOptions): Promise<void> {
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      o.log.error({ err: errorMessage(err) }, `${o.what} rollback: could not remove ${what}`);
    }
  };
  for (const { conn, name } of [...created.domains].reverse()) {
    await attempt(`domain ${name}`, async () => {
      await conn.destroyDomain(name);
      await conn.undefineDomain(name);
    });
    for (const [what, remove] of o.withDomain?.(conn, name) ?? []) await attempt(what, remove);
  }
  for (const f of created.files) await attempt(f, () => o.removeFile(f));
  for (const conn of created.networks) {
    await attempt(`network ${o.network}`, async () => {
      await conn.destroyNetwork(o.network);
      await conn.undefineNetwork(o.network);
    });
  }
  if (created.domains.length + created.networks.length + created.files.length > 0) {
    o.log.warn({ domains: created.domains.length, networks: created.networks.length }, `${o.what} failed; rolled back`);
  }
}
