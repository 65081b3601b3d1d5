// Change tracking for the coordinator's in-memory state, so a commit journals only what changed.
// The coordinator mutates the store's objects in place (`job.state = …`, `job.vms[0].state = …`,
// `store.data.jobs[id] = job`); every object read through the store is a Proxy that records the
// root entry (kind + key: a job, a site, a snapshot) it belongs to on any write beneath it.
// Reads return the same proxy for the same object (identity holds among values read from the
// store); what is stored is always the plain object (proxies are unwrapped on assignment), so
// serialising the state never goes through a trap.
// Caveat for callers: an object you create and assign is stored as is, but reading it back gives
// its tracking proxy, not your reference: compare such values by id, not by identity.

export type RootKind = 'jobs' | 'sites' | 'snapshots' | 'archive';

export interface ChangeSink {
  touch(kind: RootKind, key: string): void;
}

const rawOf = new WeakMap<object, object>();

interface Cached {
  tag: string;
  proxy: object;
}
const proxyOf = new WeakMap<object, Cached>();

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** The plain object behind a tracking proxy (or the value itself). */
export function unwrap<T>(v: T): T {
  if (!isObject(v)) return v;
  return (rawOf.get(v) as T | undefined) ?? v;
}

/** Replaces tracking proxies nested in a value about to be stored by their plain objects. */
function unwrapDeep<T>(v: T, depth = 0): T {
  const raw = unwrap(v);
  if (!isObject(raw) || Object.isFrozen(raw) || depth > 32) return raw;
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const child = o[k];
    if (isObject(child)) {
      const plain = unwrapDeep(child, depth + 1);
      if (plain !== child) o[k] = plain;
    }
  }
  return raw;
}

/** A proxy over `target` (part of root `kind`/`key`) that reports writes to `sink`. */
function track<T extends object>(target: T, kind: RootKind, key: string, sink: ChangeSink): T {
  const tag = kind + '\0' + key;
  const cached = proxyOf.get(target);
  if (cached && cached.tag === tag) return cached.proxy as T;
  // frozen objects (leases) cannot change, and a proxy must return their own values as they are
  if (Object.isFrozen(target)) return target;
  const touch = (): void => sink.touch(kind, key);
  const proxy = new Proxy(target, {
    get(t, p, receiver) {
      const v = Reflect.get(t, p, receiver) as unknown;
      if (typeof p !== 'string' || !isObject(v) || typeof v === 'function' || !Object.hasOwn(t, p)) return v;
      return track(unwrap(v), kind, key, sink);
    },
    set(t, p, v) {
      touch();
      return Reflect.set(t, p, unwrapDeep(v));
    },
    deleteProperty(t, p) {
      touch();
      return Reflect.deleteProperty(t, p);
    },
    defineProperty(t, p, d) {
      touch();
      return Reflect.defineProperty(t, p, 'value' in d ? { ...d, value: unwrapDeep(d.value) } : d);
    },
  });
  rawOf.set(proxy, target);
  if (!cached) proxyOf.set(target, { tag, proxy });
  return proxy;
}

/**
 * A record of root entries (jobs by id…): reading an entry gives its tracking proxy; assigning or
 * deleting one records that key. Keys that are not own entries (`__proto__`…) read as they are.
 */
export function trackRecord<T extends object>(target: Record<string, T>, kind: RootKind, sink: ChangeSink): Record<string, T> {
  const proxy = new Proxy(target, {
    get(t, p, receiver) {
      const v = Reflect.get(t, p, receiver) as unknown;
      if (typeof p !== 'string' || !isObject(v) || !Object.hasOwn(t, p)) return v;
      return track(unwrap(v), kind, p, sink);
    },
    set(t, p, v) {
      if (typeof p === 'string') sink.touch(kind, p);
      return Reflect.set(t, p, unwrapDeep(v));
    },
    deleteProperty(t, p) {
      if (typeof p === 'string') sink.touch(kind, p);
      return Reflect.deleteProperty(t, p);
    },
    defineProperty(t, p, d) {
      if (typeof p === 'string') sink.touch(kind, p);
      return Reflect.defineProperty(t, p, 'value' in d ? { ...d, value: unwrapDeep(d.value) } : d);
    },
  });
  rawOf.set(proxy, target);
  return proxy;
}

/**
 * A deep copy of a value read from the store, as plain objects (structuredClone refuses proxies):
 * use it instead of structuredClone on store data. Values are JSON-like (objects, arrays, primitives).
 */
export function clonePlain<T>(v: T): T {
  const raw = unwrap(v);
  if (!isObject(raw)) return raw;
  if (Array.isArray(raw)) return raw.map((x: unknown) => clonePlain(x)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(raw)) out[k] = clonePlain(x);
  return out as T;
}
