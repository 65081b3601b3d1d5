// Main-thread side of the binding: each connection is a worker thread (./worker.ts) that owns one
// virConnectPtr. Calls are messages; libvirt blocks only that thread, never the event loop.
import { Worker } from 'node:worker_threads';
import { UnavailableError, InternalError, type BrineError } from '../../src/shared/errors.js';
import { LibvirtError } from './errors.js';
import type { DomainInfo, LibvirtConnection, NetworkInfo } from './types.js';
import type { OpName, Ops, Ready, Request, Response, WireError, WorkerInit } from './worker.js';

interface Pending {
  op: OpName;
  target: string | undefined;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** What a call was applied to, for error messages: a domain/network name, a file, or the name inside an XML. */
function targetOf(op: OpName, args: readonly unknown[]): string | undefined {
  const first = args[0];
  if (typeof first !== 'string') return undefined;
  if (op === 'defineDomain' || op === 'defineNetwork') return /<name>([^<]*)<\/name>/.exec(first)?.[1];
  return first;
}

function toError(op: string, target: string | undefined, wire: WireError): BrineError {
  if (!wire.libvirt) return new InternalError(`libvirt binding: ${op}${target === undefined ? '' : ` ${target}`}: ${wire.message}`);
  return new LibvirtError(op, target, wire);
}

class WorkerConnection implements LibvirtConnection {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Set once the connection can take no more calls: why. */
  #dead: BrineError | null = null;
  #closing: Promise<void> | null = null;
  /** The worker's last uncaught error, to explain its exit. */
  #crash: Error | null = null;

  constructor(
    readonly uri: string,
    worker: Worker,
  ) {
    this.#worker = worker;
    worker.on('message', (msg: Response) => this.#onResponse(msg));
    worker.on('error', (err) => {
      this.#crash = err;
    });
    worker.on('messageerror', (err) => {
      this.#crash = err;
    });
    worker.on('exit', (code) => this.#onExit(code));
  }

  #onResponse(msg: Response): void {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if ('error' in msg) p.reject(toError(p.op, p.target, msg.error));
    else p.resolve(msg.result);
  }

  #onExit(code: number): void {
    if (this.#closing !== null && this.#pending.size === 0) return;
    const why = this.#crash ? `: ${this.#crash.message}` : '';
    const err = new UnavailableError(`libvirt worker for ${this.uri} exited (code ${code})${why}`, this.#crash ?? undefined);
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Promise<ReturnType<Ops[K]>> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#closing && op !== 'close') {
      return Promise.reject(new UnavailableError(`libvirt connection to ${this.uri} is closed`));
    }
    const id = this.#nextId++;
    const target = targetOf(op, args);
    return new Promise<ReturnType<Ops[K]>>((resolve, reject) => {
      this.#pending.set(id, { op, target, resolve: resolve as (v: unknown) => void, reject });
      const req: Request<K> = { id, op, args };
      this.#worker.postMessage(req);
    });
  }

  listDomains(): Promise<DomainInfo[]> {
    return this.#call('listDomains');
  }
  lookupDomain(name: string): Promise<DomainInfo | null> {
    return this.#call('lookupDomain', name);
  }
  domainXml(name: string, options?: { inactive?: boolean; secure?: boolean }): Promise<string> {
    return this.#call('domainXml', name, options);
  }
  async defineDomain(xml: string): Promise<void> {
    await this.#call('defineDomain', xml);
  }
  async startDomain(name: string): Promise<void> {
    await this.#call('startDomain', name);
  }
  async destroyDomain(name: string): Promise<void> {
    await this.#call('destroyDomain', name);
  }
  async shutdownDomain(name: string): Promise<void> {
    await this.#call('shutdownDomain', name);
  }
  async undefineDomain(name: string): Promise<void> {
    await this.#call('undefineDomain', name);
  }
  async suspendDomain(name: string): Promise<void> {
    await this.#call('suspendDomain', name);
  }
  async resumeDomain(name: string): Promise<void> {
    await this.#call('resumeDomain', name);
  }
  async saveDomain(name: string, path: string): Promise<void> {
    await this.#call('saveDomain', name, path);
  }
  async restoreDomain(path: string, options?: { xml?: string; paused?: boolean }): Promise<void> {
    await this.#call('restoreDomain', path, options);
  }
  saveImageXml(path: string): Promise<string> {
    return this.#call('saveImageXml', path);
  }
  async saveImageDefineXml(path: string, xml: string): Promise<void> {
    await this.#call('saveImageDefineXml', path, xml);
  }
  async attachDevice(domain: string, xml: string): Promise<void> {
    await this.#call('attachDevice', domain, xml);
  }
  async detachDevice(domain: string, xml: string): Promise<void> {
    await this.#call('detachDevice', domain, xml);
  }
  async createSnapshot(domain: string, xml: string, options?: { noMetadata?: boolean; live?: boolean }): Promise<void> {
    await this.#call('createSnapshot', domain, xml, options);
  }
  listNetworks(): Promise<NetworkInfo[]> {
    return this.#call('listNetworks');
  }
  lookupNetwork(name: string): Promise<NetworkInfo | null> {
    return this.#call('lookupNetwork', name);
  }
  networkXml(name: string): Promise<string> {
    return this.#call('networkXml', name);
  }
  async defineNetwork(xml: string): Promise<void> {
    await this.#call('defineNetwork', xml);
  }
  async startNetwork(name: string): Promise<void> {
    await this.#call('startNetwork', name);
  }
  async destroyNetwork(name: string): Promise<void> {
    await this.#call('destroyNetwork', name);
  }
  async undefineNetwork(name: string): Promise<void> {
    await this.#call('undefineNetwork', name);
  }
  capabilities(): Promise<string> {
    return this.#call('capabilities');
  }

  /** Closes the libvirt connection after the calls already queued, then stops the worker. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (!this.#dead) await this.#call('close');
      } catch {
        // The connection is going away either way; a failed virConnectClose leaves nothing to do.
      } finally {
        this.#dead ??= new UnavailableError(`libvirt connection to ${this.uri} is closed`);
        await this.#worker.terminate();
      }
    })();
    return this.#closing;
  }
}

/**
 * Opens a libvirt connection (`test:///default`, `qemu:///system`, `qemu+ssh://host/system`, …)
 * in its own worker thread. Calls on one connection run one at a time, in order.
 * Rejects with a LibvirtError (code UNAVAILABLE) if libvirt cannot connect.
 */
export async function openLibvirt(uri: string): Promise<LibvirtConnection> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { uri } satisfies WorkerInit,
    // Workers inherit node's flags; --input-type (from `node --input-type=module -e …`) makes a
    // worker loaded from a file fail to start.
    execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new UnavailableError(`libvirt worker for ${uri} failed to start: ${err.message}`, err));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new UnavailableError(`libvirt worker for ${uri} exited before connecting (code ${code})`));
    };
    const onMessage = (msg: Ready): void => {
      cleanup();
      resolve(msg);
    };
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.on('message', onMessage);
  });
  if (!ready.ready) {
    await worker.terminate();
    if (!ready.error.libvirt) throw new InternalError(`libvirt binding: open ${uri}: ${ready.error.message}`);
    throw new LibvirtError('open', uri, ready.error, 'UNAVAILABLE');
  }
  return new WorkerConnection(uri, worker);
}
