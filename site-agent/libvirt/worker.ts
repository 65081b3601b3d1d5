// The binding's worker thread: owns one libvirt connection and runs each request as a blocking
// libvirt call, one at a time, so the agent's event loop never waits on libvirt.
// Protocol: workerData {uri}; the worker posts {ready: true} or {ready: false, error} once the
// connection is open, then answers each {id, op, args} with {id, result} or {id, error}.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DomainInfo, DomainState, NetworkInfo } from './types.js';
import type { LibvirtErrorInfo } from './errors.js';
import {
  loadLibvirt,
  UUID_STRING_BUFLEN,
  type ConnPtr,
  type DomainPtr,
  type LibvirtFfi,
  type NetworkPtr,
  type RawPtr,
} from './ffi.js';

/** Every operation the worker runs; the main thread's methods map one-to-one onto these. */
export interface Ops {
  listDomains(): DomainInfo[];
  lookupDomain(name: string): DomainInfo | null;
  domainXml(name: string, options?: { inactive?: boolean; secure?: boolean }): string;
  defineDomain(xml: string): void;
  startDomain(name: string): void;
  destroyDomain(name: string): void;
  shutdownDomain(name: string): void;
  undefineDomain(name: string): void;
  suspendDomain(name: string): void;
  resumeDomain(name: string): void;
  saveDomain(name: string, path: string): void;
  restoreDomain(path: string, options?: { xml?: string; paused?: boolean }): void;
  saveImageXml(path: string): string;
  saveImageDefineXml(path: string, xml: string): void;
  attachDevice(domain: string, xml: string): void;
  detachDevice(domain: string, xml: string): void;
  createSnapshot(domain: string, xml: string, options?: { noMetadata?: boolean; live?: boolean }): void;
  listNetworks(): NetworkInfo[];
  lookupNetwork(name: string): NetworkInfo | null;
  networkXml(name: string): string;
  defineNetwork(xml: string): void;
  startNetwork(name: string): void;
  destroyNetwork(name: string): void;
  undefineNetwork(name: string): void;
  capabilities(): string;
  /** Closes the connection; returns virConnectClose's result (references still held, 0 if none). */
  close(): number;
}
export type OpName = keyof Ops;

export interface WorkerInit {
  uri: string;
}
export interface Request<K extends OpName = OpName> {
  id: number;
  op: K;
  args: Parameters<Ops[K]>;
}
/** `libvirt: false` marks a failure of the binding itself (a JS exception), not one libvirt reported. */
export type WireError = LibvirtErrorInfo & { libvirt: boolean };
export type Response = { id: number; result: unknown } | { id: number; error: WireError };
export type Ready = { ready: true } | { ready: false; error: WireError };

// libvirt constants (libvirt-domain.h, virterror.h).
const VIR_ERR_INTERNAL_ERROR = 1;
const VIR_ERR_INVALID_ARG = 8;
const VIR_ERR_NO_DOMAIN = 42;
const VIR_ERR_NO_NETWORK = 43;
const VIR_DOMAIN_XML_SECURE = 1;
const VIR_DOMAIN_XML_INACTIVE = 2;
const VIR_DOMAIN_SAVE_RUNNING = 2;
const VIR_DOMAIN_SAVE_PAUSED = 4;
const VIR_DOMAIN_SAVE_IMAGE_XML_SECURE = 1;
const VIR_DOMAIN_AFFECT_CURRENT = 0;
const VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA = 4;
const VIR_DOMAIN_SNAPSHOT_CREATE_LIVE = 256;
const VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1;
const VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA = 2;
const VIR_DOMAIN_UNDEFINE_KEEP_NVRAM = 8;
const VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA = 16;
const STATES: readonly DomainState[] = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
];

/** A failed libvirt call, with the error read from this thread right after it. */
class CallFailed extends Error {
  constructor(readonly info: LibvirtErrorInfo) {
    super(info.message);
  }
}

class Session {
  constructor(
    private readonly ffi: LibvirtFfi,
    private conn: ConnPtr | null,
  ) {}

  private get c(): ConnPtr {
    if (this.conn === null) throw new CallFailed({ code: 6, domain: 0, message: 'connection is closed' });
    return this.conn;
  }

  /** The thread's last libvirt error, as a throwable; `fn` names the call if libvirt set none. */
  failure(fn: string): CallFailed {
    const e = this.ffi.lastError();
    if (!e || e.code === 0) return new CallFailed({ code: VIR_ERR_INTERNAL_ERROR, domain: 0, message: `${fn} failed` });
    return new CallFailed({ code: e.code, domain: e.domain, message: e.message ?? `${fn} failed` });
  }

  private check(rc: number, fn: string): void {
    if (rc < 0) throw this.failure(fn);
  }

  private lookupDomainPtr(name: string): DomainPtr | null {
    const d = this.ffi.virDomainLookupByName(this.c, name);
    if (d !== null) return d;
    const err = this.failure('virDomainLookupByName');
    if (err.info.code === VIR_ERR_NO_DOMAIN) return null;
    throw err;
  }

  /** Runs fn on the named domain and frees the handle; `missing` answers when there is no such domain. */
  private withDomain<T>(name: string, fn: (d: DomainPtr) => T, missing?: () => T): T {
    const d = this.lookupDomainPtr(name);
    if (d === null) {
      if (missing) return missing();
      throw this.failure('virDomainLookupByName');
    }
    try {
      return fn(d);
    } finally {
      this.ffi.virDomainFree(d);
    }
  }

  private lookupNetworkPtr(name: string): NetworkPtr | null {
    const n = this.ffi.virNetworkLookupByName(this.c, name);
    if (n !== null) return n;
    const err = this.failure('virNetworkLookupByName');
    if (err.info.code === VIR_ERR_NO_NETWORK) return null;
    throw err;
  }

  private withNetwork<T>(name: string, fn: (n: NetworkPtr) => T, missing?: () => T): T {
    const n = this.lookupNetworkPtr(name);
    if (n === null) {
      if (missing) return missing();
      throw this.failure('virNetworkLookupByName');
    }
    try {
      return fn(n);
    } finally {
      this.ffi.virNetworkFree(n);
    }
  }

  private flag(rc: number, fn: string): boolean {
    if (rc < 0) throw this.failure(fn);
    return rc === 1;
  }

  private domainInfo(d: DomainPtr): DomainInfo {
    const f = this.ffi;
    const name = f.virDomainGetName(d);
    if (name === null) throw this.failure('virDomainGetName');
    const buf = Buffer.alloc(UUID_STRING_BUFLEN);
    this.check(f.virDomainGetUUIDString(d, buf), 'virDomainGetUUIDString');
    const state: [number] = [0];
    const reason: [number] = [0];
    this.check(f.virDomainGetState(d, state, reason, 0), 'virDomainGetState');
    return {
      name,
      uuid: buf.toString('latin1', 0, UUID_STRING_BUFLEN - 1),
      state: STATES[state[0]] ?? 'nostate',
      persistent: this.flag(f.virDomainIsPersistent(d), 'virDomainIsPersistent'),
    };
  }

  private networkInfo(n: NetworkPtr): NetworkInfo {
    const f = this.ffi;
    const name = f.virNetworkGetName(n);
    if (name === null) throw this.failure('virNetworkGetName');
    // Networks without a bridge (e.g. macvtap or hostdev forwarding) have none: not an error here.
    const bridge = f.virNetworkGetBridgeName(n) ?? '';
    return {
      name,
      active: this.flag(f.virNetworkIsActive(n), 'virNetworkIsActive'),
      persistent: this.flag(f.virNetworkIsPersistent(n), 'virNetworkIsPersistent'),
      bridge,
    };
  }

  /** Reads a virConnectListAll* array, maps each element, and frees every element and the array. */
  private listAll<P extends bigint, T>(
    list: (out: [RawPtr | null]) => number,
    fnName: string,
    map: (p: P) => T,
    release: (p: P) => void,
  ): T[] {
    const out: [RawPtr | null] = [null];
    const n = list(out);
    if (n < 0) throw this.failure(fnName);
    const array = out[0];
    if (array === null) return [];
    const ptrs = this.ffi.readPointers(array, n) as unknown as P[];
    try {
      const out: T[] = [];
      for (const p of ptrs) {
        try {
          out.push(map(p));
        } catch (err) {
          // Undefined by someone else between the listing and this read: it is simply not there.
          if (err instanceof CallFailed && (err.info.code === VIR_ERR_NO_DOMAIN || err.info.code === VIR_ERR_NO_NETWORK)) continue;
          throw err;
        }
      }
      return out;
    } finally {
      for (const p of ptrs) release(p);
      this.ffi.free(array);
    }
  }

  readonly ops: Ops = {
    listDomains: () =>
      this.listAll<DomainPtr, DomainInfo>(
        (out) => this.ffi.virConnectListAllDomains(this.c, out, 0),
        'virConnectListAllDomains',
        (d) => this.domainInfo(d),
        (d) => this.ffi.virDomainFree(d),
      ),
    lookupDomain: (name) =>
      this.withDomain(
        name,
        (d) => this.domainInfo(d),
        () => null,
      ),
    domainXml: (name, options = {}) =>
      this.withDomain(name, (d) => {
        const flags = (options.inactive ? VIR_DOMAIN_XML_INACTIVE : 0) | (options.secure ? VIR_DOMAIN_XML_SECURE : 0);
        const xml = this.ffi.virDomainGetXMLDesc(d, flags);
        if (xml === null) throw this.failure('virDomainGetXMLDesc');
        return xml;
      }),
    defineDomain: (xml) => {
      const d = this.ffi.virDomainDefineXML(this.c, xml);
      if (d === null) throw this.failure('virDomainDefineXML');
      this.ffi.virDomainFree(d);
    },
    startDomain: (name) => this.withDomain(name, (d) => this.check(this.ffi.virDomainCreate(d), 'virDomainCreate')),
    destroyDomain: (name) =>
      this.withDomain(
        name,
        (d) => {
          if (this.ffi.virDomainDestroy(d) === 0) return;
          const err = this.failure('virDomainDestroy');
          // Already off is success; so is gone (a transient domain vanishes once off).
          if (this.ffi.virDomainIsActive(d) === 0) return;
          if (this.ffi.lastError()?.code === VIR_ERR_NO_DOMAIN) return;
          throw err;
        },
        () => undefined,
      ),
    shutdownDomain: (name) => this.withDomain(name, (d) => this.check(this.ffi.virDomainShutdown(d), 'virDomainShutdown')),
    undefineDomain: (name) =>
      this.withDomain(
        name,
        (d) => {
          const all =
            VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
            VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
            VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
            VIR_DOMAIN_UNDEFINE_KEEP_NVRAM;
          if (this.ffi.virDomainUndefineFlags(d, all) === 0) return;
          const err = this.failure('virDomainUndefineFlags');
          // Drivers reject flags they do not know (the test driver knows only the first two).
          if (err.info.code !== VIR_ERR_INVALID_ARG) throw err;
          const basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
          this.check(this.ffi.virDomainUndefineFlags(d, basic), 'virDomainUndefineFlags');
        },
        () => undefined,
      ),
    suspendDomain: (name) => this.withDomain(name, (d) => this.check(this.ffi.virDomainSuspend(d), 'virDomainSuspend')),
    resumeDomain: (name) => this.withDomain(name, (d) => this.check(this.ffi.virDomainResume(d), 'virDomainResume')),
    saveDomain: (name, path) =>
      this.withDomain(name, (d) => this.check(this.ffi.virDomainSaveFlags(d, path, null, 0), 'virDomainSaveFlags')),
    restoreDomain: (path, options = {}) => {
      const flags =
        options.paused === true ? VIR_DOMAIN_SAVE_PAUSED : options.paused === false ? VIR_DOMAIN_SAVE_RUNNING : 0;
      this.check(this.ffi.virDomainRestoreFlags(this.c, path, options.xml ?? null, flags), 'virDomainRestoreFlags');
    },
    saveImageXml: (path) => {
      // SECURE: this XML is read to be edited and written back; without it secrets would be dropped.
      const xml = this.ffi.virDomainSaveImageGetXMLDesc(this.c, path, VIR_DOMAIN_SAVE_IMAGE_XML_SECURE);
      if (xml === null) throw this.failure('virDomainSaveImageGetXMLDesc');
      return xml;
    },
    saveImageDefineXml: (path, xml) =>
      this.check(this.ffi.virDomainSaveImageDefineXML(this.c, path, xml, 0), 'virDomainSaveImageDefineXML'),
    // AFFECT_CURRENT: the live domain if it runs, its persistent definition otherwise (virsh's default).
    attachDevice: (domain, xml) =>
      this.withDomain(domain, (d) =>
        this.check(this.ffi.virDomainAttachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_CURRENT), 'virDomainAttachDeviceFlags'),
      ),
    detachDevice: (domain, xml) =>
      this.withDomain(domain, (d) =>
        this.check(this.ffi.virDomainDetachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_CURRENT), 'virDomainDetachDeviceFlags'),
      ),
    createSnapshot: (domain, xml, options = {}) =>
      this.withDomain(domain, (d) => {
        const flags =
          (options.noMetadata === true ? VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA : 0) |
          (options.live === true ? VIR_DOMAIN_SNAPSHOT_CREATE_LIVE : 0);
        const snap = this.ffi.virDomainSnapshotCreateXML(d, xml, flags);
        if (snap === null) throw this.failure('virDomainSnapshotCreateXML');
        // The handle is all libvirt returns; brine keeps no snapshot objects (NO_METADATA): free it.
        this.ffi.virDomainSnapshotFree(snap);
      }),

    listNetworks: () =>
      this.listAll<NetworkPtr, NetworkInfo>(
        (out) => this.ffi.virConnectListAllNetworks(this.c, out, 0),
        'virConnectListAllNetworks',
        (n) => this.networkInfo(n),
        (n) => this.ffi.virNetworkFree(n),
      ),
    lookupNetwork: (name) =>
      this.withNetwork(
        name,
        (n) => this.networkInfo(n),
        () => null,
      ),
    networkXml: (name) =>
      this.withNetwork(name, (n) => {
        const xml = this.ffi.virNetworkGetXMLDesc(n, 0);
        if (xml === null) throw this.failure('virNetworkGetXMLDesc');
        return xml;
      }),
    defineNetwork: (xml) => {
      const n = this.ffi.virNetworkDefineXML(this.c, xml);
      if (n === null) throw this.failure('virNetworkDefineXML');
      this.ffi.virNetworkFree(n);
    },
    startNetwork: (name) => this.withNetwork(name, (n) => this.check(this.ffi.virNetworkCreate(n), 'virNetworkCreate')),
    destroyNetwork: (name) =>
      this.withNetwork(
        name,
        (n) => {
          if (this.ffi.virNetworkDestroy(n) === 0) return;
          const err = this.failure('virNetworkDestroy');
          if (this.ffi.virNetworkIsActive(n) === 0) return;
          if (this.ffi.lastError()?.code === VIR_ERR_NO_NETWORK) return;
          throw err;
        },
        () => undefined,
      ),
    undefineNetwork: (name) =>
      this.withNetwork(
        name,
        (n) => this.check(this.ffi.virNetworkUndefine(n), 'virNetworkUndefine'),
        () => undefined,
      ),
    capabilities: () => {
      const xml = this.ffi.virConnectGetCapabilities(this.c);
      if (xml === null) throw this.failure('virConnectGetCapabilities');
      return xml;
    },
    close: () => {
      if (this.conn === null) return 0;
      const rc = this.ffi.virConnectClose(this.conn);
      this.conn = null;
      return rc;
    },
  };

  /** After a failure: is the connection still usable? Reads the error first (IsAlive may reset it). */
  alive(): boolean {
    return this.conn === null || this.ffi.virConnectIsAlive(this.conn) !== 0;
  }
}

function wireError(err: unknown, session: Session | null): WireError {
  if (err instanceof CallFailed) {
    const connectionLost = session !== null && !session.alive();
    return { ...err.info, libvirt: true, ...(connectionLost ? { connectionLost } : {}) };
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { code: VIR_ERR_INTERNAL_ERROR, domain: 0, message, libvirt: false };
}

function main(): void {
  const port = parentPort;
  if (isMainThread || port === null) throw new Error('site-agent/libvirt/worker.js must run as a worker thread');
  const { uri } = workerData as WorkerInit;

  let session: Session;
  try {
    const ffi = loadLibvirt();
    ffi.virResetLastError();
    const conn = ffi.virConnectOpen(uri);
    if (conn === null) {
      const e = ffi.lastError();
      const error: WireError = e
        ? { code: e.code, domain: e.domain, message: e.message ?? 'virConnectOpen failed', libvirt: true }
        : { code: VIR_ERR_INTERNAL_ERROR, domain: 0, message: 'virConnectOpen failed', libvirt: true };
      port.postMessage({ ready: false, error } satisfies Ready);
      port.close();
      return;
    }
    session = new Session(ffi, conn);
  } catch (err) {
    port.postMessage({ ready: false, error: wireError(err, null) } satisfies Ready);
    port.close();
    return;
  }
  port.postMessage({ ready: true } satisfies Ready);

  const ffi = loadLibvirt();
  port.on('message', (req: Request) => {
    let response: Response;
    try {
      if (!Object.hasOwn(session.ops, req.op)) throw new Error(`unknown operation ${String(req.op)}`);
      const op = session.ops[req.op] as (...args: unknown[]) => unknown;
      // A stale error from an earlier call must not be mistaken for this call's.
      ffi.virResetLastError();
      response = { id: req.id, result: op(...req.args) };
    } catch (err) {
      response = { id: req.id, error: wireError(err, session) };
    }
    port.postMessage(response);
    if (req.op === 'close') port.close();
  });
}

main();
