// The libvirt binding: the agent imports from here only.
export type { DomainInfo, DomainState, LibvirtConnection, NetworkInfo } from './types.js';
export { openLibvirt } from './connection.js';
export {
  LibvirtError,
  VIR_ERR,
  isConnectionLost,
  isNoDomain,
  isAddressInUse,
  isNoNetwork,
  isOperationInvalid,
  type LibvirtErrorInfo,
} from './errors.js';
export { restoreWithNewNics, type NicChange, type RestoreWithNewNicsOptions } from './nic-swap.js';
