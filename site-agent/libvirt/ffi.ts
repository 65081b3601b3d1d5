// koffi declarations of the libvirt C API brine uses. Loaded only inside the binding's worker
// thread (./worker.ts): every call here blocks the calling thread until libvirt answers.
//
// Memory ownership, per libvirt's documentation:
// - virDomainPtr / virNetworkPtr from lookups, defines and lists: the caller frees each with
//   virDomainFree / virNetworkFree (the worker does, in `finally`).
// - Arrays from virConnectListAll*: the caller frees the array with free() after the elements.
// - char* from *GetXMLDesc, GetCapabilities, GetBridgeName, SaveImageGetXMLDesc: the caller frees
//   with free(). They are declared `char *!` (koffi "disposable"): koffi copies the string into JS,
//   then calls free() on the original pointer.
// - const char* from virDomainGetName / virNetworkGetName and the virError returned by
//   virGetLastError belong to libvirt: copied, never freed.
import koffi from 'koffi';

// Branded pointer types: koffi 3 represents pointers as bigint (null for NULL). Brands keep a
// domain pointer from being passed where a connection is expected.
export type ConnPtr = bigint & { readonly __brand: 'virConnect' };
export type DomainPtr = bigint & { readonly __brand: 'virDomain' };
export type NetworkPtr = bigint & { readonly __brand: 'virNetwork' };
export type SnapshotPtr = bigint & { readonly __brand: 'virDomainSnapshot' };
export type RawPtr = bigint & { readonly __brand: 'void' };

/** The fields brine reads from libvirt's thread-local virError. */
export interface VirErrorFields {
  code: number;
  domain: number;
  message: string | null;
}

/** Output parameter: koffi writes into the array's first element. */
type Out<T> = [T];

export interface LibvirtFfi {
  virConnectOpen(uri: string): ConnPtr | null;
  virConnectClose(conn: ConnPtr): number;
  virConnectIsAlive(conn: ConnPtr): number;
  virConnectGetCapabilities(conn: ConnPtr): string | null;
  virConnectListAllDomains(conn: ConnPtr, out: Out<RawPtr | null>, flags: number): number;
  virConnectListAllNetworks(conn: ConnPtr, out: Out<RawPtr | null>, flags: number): number;

  virDomainLookupByName(conn: ConnPtr, name: string): DomainPtr | null;
  virDomainDefineXML(conn: ConnPtr, xml: string): DomainPtr | null;
  virDomainFree(dom: DomainPtr): number;
  virDomainGetName(dom: DomainPtr): string | null;
  virDomainGetUUIDString(dom: DomainPtr, buf: Buffer): number;
  virDomainGetState(dom: DomainPtr, state: Out<number>, reason: Out<number>, flags: number): number;
  virDomainIsPersistent(dom: DomainPtr): number;
  virDomainIsActive(dom: DomainPtr): number;
  virDomainGetXMLDesc(dom: DomainPtr, flags: number): string | null;
  virDomainCreate(dom: DomainPtr): number;
  virDomainDestroy(dom: DomainPtr): number;
  virDomainShutdown(dom: DomainPtr): number;
  virDomainUndefineFlags(dom: DomainPtr, flags: number): number;
  virDomainUndefine(dom: DomainPtr): number;
  virDomainSuspend(dom: DomainPtr): number;
  virDomainResume(dom: DomainPtr): number;
  virDomainSaveFlags(dom: DomainPtr, to: string, dxml: string | null, flags: number): number;
  virDomainRestoreFlags(conn: ConnPtr, from: string, dxml: string | null, flags: number): number;
  virDomainSaveImageGetXMLDesc(conn: ConnPtr, file: string, flags: number): string | null;
  virDomainSaveImageDefineXML(conn: ConnPtr, file: string, dxml: string, flags: number): number;
  virDomainAttachDeviceFlags(dom: DomainPtr, xml: string, flags: number): number;
  virDomainDetachDeviceFlags(dom: DomainPtr, xml: string, flags: number): number;
  virDomainSnapshotCreateXML(dom: DomainPtr, xml: string, flags: number): SnapshotPtr | null;
  virDomainSnapshotFree(snap: SnapshotPtr): number;

  virNetworkLookupByName(conn: ConnPtr, name: string): NetworkPtr | null;
  virNetworkDefineXML(conn: ConnPtr, xml: string): NetworkPtr | null;
  virNetworkFree(net: NetworkPtr): number;
  virNetworkGetName(net: NetworkPtr): string | null;
  virNetworkIsActive(net: NetworkPtr): number;
  virNetworkIsPersistent(net: NetworkPtr): number;
  virNetworkGetBridgeName(net: NetworkPtr): string | null;
  virNetworkGetXMLDesc(net: NetworkPtr, flags: number): string | null;
  virNetworkCreate(net: NetworkPtr): number;
  virNetworkDestroy(net: NetworkPtr): number;
  virNetworkUndefine(net: NetworkPtr): number;

  virResetLastError(): void;
  /** libvirt's last error on this thread, or null if none. */
  lastError(): VirErrorFields | null;
  /** The n pointers of a C array (from virConnectListAll*). */
  readPointers(array: RawPtr, n: number): RawPtr[];
  /** free() a block libvirt allocated (the arrays of virConnectListAll*). */
  free(ptr: RawPtr): void;
}

/** VIR_UUID_STRING_BUFLEN: 36 characters and the NUL. */
export const UUID_STRING_BUFLEN = 37;

let loaded: LibvirtFfi | null = null;

/** Loads libvirt.so.0 once per thread (koffi binds functions per isolate) and silences its stderr output. */
export function loadLibvirt(): LibvirtFfi {
  if (loaded) return loaded;
  const lib = koffi.load('libvirt.so.0');

  koffi.opaque('virConnect');
  koffi.opaque('virDomain');
  koffi.opaque('virNetwork');
  koffi.opaque('virDomainSnapshot');
  const virError = koffi.struct('virError', {
    code: 'int',
    domain: 'int',
    message: 'const char *',
    level: 'int',
    conn: 'void *',
    dom: 'void *',
    str1: 'const char *',
    str2: 'const char *',
    str3: 'const char *',
    int1: 'int',
    int2: 'int',
    net: 'void *',
  });

  type Helpers = 'lastError' | 'readPointers' | 'free';
  type Raw = Omit<LibvirtFfi, Helpers> & {
    virInitialize(): number;
    virGetLastError(): unknown;
    virSetErrorFunc(userData: null, handler: unknown): void;
  };

  // Declarations mirror libvirt's headers; `char *!` marks strings the caller must free().
  // Typed as a record over Raw's keys so a function missing here fails to compile.
  const decls: Record<keyof Raw, string> = {
    virConnectOpen: 'virConnect *virConnectOpen(const char *name)',
    virConnectClose: 'int virConnectClose(virConnect *conn)',
    virConnectIsAlive: 'int virConnectIsAlive(virConnect *conn)',
    virConnectGetCapabilities: 'char *! virConnectGetCapabilities(virConnect *conn)',
    virConnectListAllDomains: 'int virConnectListAllDomains(virConnect *conn, _Out_ void **domains, unsigned int flags)',
    virConnectListAllNetworks: 'int virConnectListAllNetworks(virConnect *conn, _Out_ void **nets, unsigned int flags)',

    virDomainLookupByName: 'virDomain *virDomainLookupByName(virConnect *conn, const char *name)',
    virDomainDefineXML: 'virDomain *virDomainDefineXML(virConnect *conn, const char *xml)',
    virDomainFree: 'int virDomainFree(virDomain *domain)',
    virDomainGetName: 'const char *virDomainGetName(virDomain *domain)',
    virDomainGetUUIDString: 'int virDomainGetUUIDString(virDomain *domain, _Out_ uint8_t *buf)',
    virDomainGetState: 'int virDomainGetState(virDomain *domain, _Out_ int *state, _Out_ int *reason, unsigned int flags)',
    virDomainIsPersistent: 'int virDomainIsPersistent(virDomain *domain)',
    virDomainIsActive: 'int virDomainIsActive(virDomain *domain)',
    virDomainGetXMLDesc: 'char *! virDomainGetXMLDesc(virDomain *domain, unsigned int flags)',
    virDomainCreate: 'int virDomainCreate(virDomain *domain)',
    virDomainDestroy: 'int virDomainDestroy(virDomain *domain)',
    virDomainShutdown: 'int virDomainShutdown(virDomain *domain)',
    virDomainUndefineFlags: 'int virDomainUndefineFlags(virDomain *domain, unsigned int flags)',
    virDomainUndefine: 'int virDomainUndefine(virDomain *domain)',
    virDomainSuspend: 'int virDomainSuspend(virDomain *domain)',
    virDomainResume: 'int virDomainResume(virDomain *domain)',
    virDomainSaveFlags: 'int virDomainSaveFlags(virDomain *domain, const char *to, const char *dxml, unsigned int flags)',
    virDomainRestoreFlags: 'int virDomainRestoreFlags(virConnect *conn, const char *from, const char *dxml, unsigned int flags)',
    virDomainSaveImageGetXMLDesc: 'char *! virDomainSaveImageGetXMLDesc(virConnect *conn, const char *file, unsigned int flags)',
    virDomainSaveImageDefineXML: 'int virDomainSaveImageDefineXML(virConnect *conn, const char *file, const char *dxml, unsigned int flags)',
    virDomainAttachDeviceFlags: 'int virDomainAttachDeviceFlags(virDomain *domain, const char *xml, unsigned int flags)',
    virDomainDetachDeviceFlags: 'int virDomainDetachDeviceFlags(virDomain *domain, const char *xml, unsigned int flags)',
    virDomainSnapshotCreateXML: 'virDomainSnapshot *virDomainSnapshotCreateXML(virDomain *domain, const char *xmlDesc, unsigned int flags)',
    virDomainSnapshotFree: 'int virDomainSnapshotFree(virDomainSnapshot *snapshot)',

    virNetworkLookupByName: 'virNetwork *virNetworkLookupByName(virConnect *conn, const char *name)',
    virNetworkDefineXML: 'virNetwork *virNetworkDefineXML(virConnect *conn, const char *xml)',
    virNetworkFree: 'int virNetworkFree(virNetwork *network)',
    virNetworkGetName: 'const char *virNetworkGetName(virNetwork *network)',
    virNetworkIsActive: 'int virNetworkIsActive(virNetwork *network)',
    virNetworkIsPersistent: 'int virNetworkIsPersistent(virNetwork *network)',
    virNetworkGetBridgeName: 'char *! virNetworkGetBridgeName(virNetwork *network)',
    virNetworkGetXMLDesc: 'char *! virNetworkGetXMLDesc(virNetwork *network, unsigned int flags)',
    virNetworkCreate: 'int virNetworkCreate(virNetwork *network)',
    virNetworkDestroy: 'int virNetworkDestroy(virNetwork *network)',
    virNetworkUndefine: 'int virNetworkUndefine(virNetwork *network)',

    virInitialize: 'int virInitialize(void)',
    virResetLastError: 'void virResetLastError(void)',
    virGetLastError: 'virError *virGetLastError(void)',
    virSetErrorFunc: 'void virSetErrorFunc(void *userData, void *handler)',
  };

  // koffi's functions are untyped; this cast is the one place they meet the typed interface.
  const raw = Object.fromEntries(Object.entries(decls).map(([name, decl]) => [name, lib.func(decl)])) as unknown as Raw;

  // Before anything else: libvirt's error functions use a thread-local key that virInitialize
  // creates. virResetLastError before it reads an unrelated TLS slot and corrupts the heap (seen).
  if (raw.virInitialize() < 0) throw new Error('virInitialize failed');

  // Silence libvirt's default error handler, which prints every error to stderr. The handler is
  // process-wide (shared by every worker in the process), so it must not be a JS callback: a koffi
  // callback belongs to the worker that registered it, and libvirt calling it after that worker
  // is gone aborts the whole process (seen: two workers, one terminated, the other's failed open).
  // libvirt calls handler(userData, err); with handler = libc free and userData = NULL that is
  // free(NULL), a no-op (the extra argument is ignored under the C calling convention).
  raw.virSetErrorFunc(null, lib.symbol('free'));

  const ffi: LibvirtFfi = {
    ...raw,
    lastError(): VirErrorFields | null {
      const p = raw.virGetLastError();
      if (p === null || p === undefined) return null;
      const e = koffi.decode(p, virError) as { code: number; domain: number; message: string | null };
      return { code: e.code, domain: e.domain, message: e.message };
    },
    readPointers(array: RawPtr, n: number): RawPtr[] {
      if (n <= 0) return [];
      return koffi.decode(array, 'void *', n) as RawPtr[];
    },
    free(ptr: RawPtr): void {
      koffi.free(ptr);
    },
  };
  loaded = ffi;
  return ffi;
}
