// The typed surface of the libvirt binding: the rest of the agent uses only this.
// Implemented by `./connection.ts` over the real C library (libvirt.so.0, via koffi, in a worker thread).

export type DomainState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended' | 'nostate';

export interface DomainInfo {
  name: string;
  uuid: string;
  state: DomainState;
  /** true if the domain has a persistent definition */
  persistent: boolean;
}

export interface NetworkInfo {
  name: string;
  active: boolean;
  persistent: boolean;
  bridge: string;
}

export interface LibvirtConnection {
  readonly uri: string;
  /** Every domain, running or defined-but-off. */
  listDomains(): Promise<DomainInfo[]>;
  /** null when no such domain. */
  lookupDomain(name: string): Promise<DomainInfo | null>;
  /** `secure` includes security-sensitive parts (passwords): only for XML that will be redefined, not logged. */
  domainXml(name: string, options?: { inactive?: boolean; secure?: boolean }): Promise<string>;
  /** Defines (persistent) a domain from XML. */
  defineDomain(xml: string): Promise<void>;
  /** Starts a defined domain (virDomainCreate). */
  startDomain(name: string): Promise<void>;
  /** Hard power-off; succeeds if already off. */
  destroyDomain(name: string): Promise<void>;
  /** ACPI shutdown request. */
  shutdownDomain(name: string): Promise<void>;
  /** Removes the definition (and managed save / snapshot metadata); succeeds if gone. */
  undefineDomain(name: string): Promise<void>;
  suspendDomain(name: string): Promise<void>;
  resumeDomain(name: string): Promise<void>;
  /** virDomainSaveFlags: memory state to `path`; the domain stops. */
  saveDomain(name: string, path: string): Promise<void>;
  /** virDomainRestoreFlags, optionally with a replacement XML. */
  restoreDomain(path: string, options?: { xml?: string; paused?: boolean }): Promise<void>;
  saveImageXml(path: string): Promise<string>;
  saveImageDefineXml(path: string, xml: string): Promise<void>;
  attachDevice(domain: string, xml: string): Promise<void>;
  detachDevice(domain: string, xml: string): Promise<void>;
  /**
   * virDomainSnapshotCreateXML with a `<domainsnapshot>` XML. `noMetadata`: libvirt keeps no
   * snapshot object (only the files the XML names are made); `live`: memory is dumped while the
   * guest runs. An external memory snapshot (`<memory snapshot='external' file=…/>`) writes a file
   * in virDomainSave's format (restorable with `restoreDomain`) without stopping the domain: a
   * paused domain stays paused, a running one is paused for the dump and resumed. The test driver
   * refuses both flags and external memory.
   */
  createSnapshot(domain: string, xml: string, options?: { noMetadata?: boolean; live?: boolean }): Promise<void>;

  listNetworks(): Promise<NetworkInfo[]>;
  lookupNetwork(name: string): Promise<NetworkInfo | null>;
  networkXml(name: string): Promise<string>;
  defineNetwork(xml: string): Promise<void>;
  startNetwork(name: string): Promise<void>;
  /** Stops the network; succeeds if already inactive or gone. */
  destroyNetwork(name: string): Promise<void>;
  /** Removes the definition; succeeds if gone. */
  undefineNetwork(name: string): Promise<void>;

  /** Host capabilities XML (guest types, CPU model). */
  capabilities(): Promise<string>;
  close(): Promise<void>;
}
