// Errors raised by the libvirt binding. A LibvirtError carries libvirt's own numbers
// (virErrorNumber, virErrorDomain) so callers can tell "no such domain" from a real failure.
import { BrineError, type ErrorCode } from '../../src/shared/errors.js';

/** The virErrorNumber values brine looks at (libvirt's virterror.h). */
export const VIR_ERR = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  XML_DETAIL: 35,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_UNSUPPORTED: 84,
  AUTH_UNAVAILABLE: 94,
  DEVICE_MISSING: 99,
  XML_INVALID_SCHEMA: 92,
} as const;

/** What the worker reports for a failed call: libvirt's virError fields, read on the calling thread. */
export interface LibvirtErrorInfo {
  code: number;
  domain: number;
  message: string;
  /** virConnectIsAlive said the connection is gone after the failure. */
  connectionLost?: boolean;
}

const NOT_FOUND = new Set<number>([VIR_ERR.NO_DOMAIN, VIR_ERR.NO_NETWORK, VIR_ERR.NO_DOMAIN_SNAPSHOT]);
const BAD_INPUT = new Set<number>([
  VIR_ERR.INVALID_ARG,
  VIR_ERR.XML_ERROR,
  VIR_ERR.XML_DETAIL,
  VIR_ERR.INVALID_MAC,
  VIR_ERR.XML_INVALID_SCHEMA,
]);
const EXISTS = new Set<number>([VIR_ERR.DOM_EXIST, VIR_ERR.NETWORK_EXIST]);
const UNREACHABLE = new Set<number>([
  VIR_ERR.NO_CONNECT,
  VIR_ERR.INVALID_CONN,
  VIR_ERR.RPC,
  VIR_ERR.AUTH_FAILED,
  VIR_ERR.AUTH_UNAVAILABLE,
]);

function brineCodeFor(info: LibvirtErrorInfo): ErrorCode {
  if (info.connectionLost || UNREACHABLE.has(info.code)) return 'UNAVAILABLE';
  if (NOT_FOUND.has(info.code)) return 'NOT_FOUND';
  if (info.code === VIR_ERR.OPERATION_INVALID) return 'FAILED_PRECONDITION';
  if (EXISTS.has(info.code)) return 'ALREADY_EXISTS';
  if (BAD_INPUT.has(info.code)) return 'INVALID_ARGUMENT';
  return 'INTERNAL';
}

export class LibvirtError extends BrineError {
  /** libvirt's virErrorNumber (e.g. 42 = VIR_ERR_NO_DOMAIN). */
  readonly libvirtCode: number;
  /** libvirt's virErrorDomain: which part of libvirt raised it. */
  readonly libvirtDomain: number;
  /** libvirt's own message, without brine's prefix. */
  readonly libvirtMessage: string;
  /** The binding call that failed (a LibvirtConnection method name, or "open"). */
  readonly op: string;
  /** What it was applied to (domain, network, file or URI), if anything. */
  readonly target: string | undefined;

  constructor(op: string, target: string | undefined, info: LibvirtErrorInfo, code?: ErrorCode) {
    super(code ?? brineCodeFor(info), `libvirt: ${op}${target === undefined ? '' : ` ${target}`}: ${info.message}`);
    this.libvirtCode = info.code;
    this.libvirtDomain = info.domain;
    this.libvirtMessage = info.message;
    this.op = op;
    this.target = target;
  }
}

function hasCode(err: unknown, code: number): boolean {
  return err instanceof LibvirtError && err.libvirtCode === code;
}

/** VIR_ERR_NO_DOMAIN (42): no domain of that name. */
export function isNoDomain(err: unknown): boolean {
  return hasCode(err, VIR_ERR.NO_DOMAIN);
}

/** VIR_ERR_NO_NETWORK (43): no network of that name. */
export function isNoNetwork(err: unknown): boolean {
  return hasCode(err, VIR_ERR.NO_NETWORK);
}

/** VIR_ERR_OPERATION_INVALID (55): not allowed in the object's current state (e.g. start a running domain). */
export function isOperationInvalid(err: unknown): boolean {
  return hasCode(err, VIR_ERR.OPERATION_INVALID);
}

/**
 * A network's dnsmasq could not bind its gateway address: something on the host still holds it
 * (libvirt has no error number of its own for this; its message carries the socket error).
 */
export function isAddressInUse(err: unknown): boolean {
  return err instanceof LibvirtError && err.libvirtMessage.includes('Address already in use');
}

/** The connection to libvirt (or its worker) is gone: reopen it. */
export function isConnectionLost(err: unknown): boolean {
  return err instanceof BrineError && err.code === 'UNAVAILABLE';
}
