// A libvirt connection that reopens itself after it was lost (libvirtd restarted, ssh dropped).
import { UnavailableError } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/logger.js';
import { isConnectionLost } from './errors.js';
import type { LibvirtConnection } from './types.js';

/**
 * Wraps an open connection: a call failing because the connection is gone (UNAVAILABLE) drops it,
 * and the next call opens a new one, so the agent recovers from a libvirtd restart on its own.
 */
export function reconnecting(
  first: LibvirtConnection,
  connect: (uri: string) => Promise<LibvirtConnection>,
  log: Logger,
): LibvirtConnection {
  const uri = first.uri;
  let current: Promise<LibvirtConnection> | null = Promise.resolve(first);
  let closed = false;
  const get = (): Promise<LibvirtConnection> => {
    if (!current) {
      log.info({ uri }, 'reopening the libvirt connection');
      current = connect(uri).catch((err: unknown) => {
        current = null;
        throw err;
      });
    }
    return current;
  };
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    if (closed) throw new UnavailableError(`libvirt connection to ${uri} is closed`);
    const pending = get();
    const lv = await pending;
    try {
      return await (lv[method as keyof LibvirtConnection] as (...a: unknown[]) => Promise<unknown>).apply(lv, args);
    } catch (err) {
      if (isConnectionLost(err) && current === pending) {
        log.warn({ uri, err: (err as Error).message }, 'libvirt connection lost; the next call reopens it');
        current = null;
        void lv.close().catch((e: unknown) => log.debug({ uri, err: (e as Error).message }, 'closing the lost libvirt connection failed'));
      }
      throw err;
    }
  };
  return new Proxy({} as LibvirtConnection, {
    get(_target, prop) {
      if (prop === 'uri') return uri;
      // Not a thenable: `await`ing the wrapper must not call into libvirt.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      if (prop === 'close') {
        return async () => {
          closed = true;
          const c = current;
          current = null;
          // a connection that never opened has nothing to close (its error went to its caller)
          const lv = await c?.catch((e: unknown) => {
            log.debug({ uri, err: (e as Error).message }, 'closing: the connection had not opened');
            return null;
          });
          await lv?.close();
        };
      }
      return (...args: unknown[]) => call(prop, args);
    },
  });
}
