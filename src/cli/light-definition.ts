// gRPC service definitions for the CLI from a generated descriptor (src/gen/descriptors/), built
// with protobufjs's light build: what @grpc/proto-loader's fromJSON does for a service's methods
// (same serializers: fromObject + encode, decode + toObject with the loader's options), without
// the rest it builds at load time and the CLI never uses (loading the full protobufjs with its
// .proto parser, and a FileDescriptorProto per type, for reflection). A prolog pays for every
// module the CLI loads: this halves protobuf's share of the start-up (docs/design-notes.md).
// Each method's types are built on its first call, from only the messages it needs: a CLI call
// uses one or two of JobService's methods, and building all 45 types cost it ~10 ms.
// test/unit/light-definition.test.ts checks it against proto-loader's on the real messages.
import type { loadPackageDefinition } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';
import protobuf from 'protobufjs/light.js';

type PackageDefinition = Parameters<typeof loadPackageDefinition>[0];

type MethodDefinition = PackageDefinition[string] extends infer D ? (D extends { [method: string]: infer M } ? M : never) : never;

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  };
}

function deserializer(type: protobuf.Type, options: protobuf.IConversionOptions): (buf: Buffer) => object {
  return (buf) => type.toObject(type.decode(buf), options);
}

/** A namespace, service, message or enum of a protobufjs JSON descriptor, as far as read here. */
interface JsonNode {
  nested?: Record<string, JsonNode>;
  methods?: Record<string, { requestType: string; responseType: string; requestStream?: boolean; responseStream?: boolean }>;
  fields?: Record<string, { type: string }>;
  [key: string]: unknown;
}

/**
 * `types` and the messages and enums they use, as a descriptor of their own: each a sibling in
 * the namespace `path` (how gen:proto writes brine.v1). Undefined when a type is anything else
 * (nested, in another package): the caller then builds from the whole descriptor.
 */
function subset(descriptor: JsonNode, path: readonly string[], types: readonly string[]): JsonNode | undefined {
  let ns: JsonNode | undefined = descriptor;
  for (const name of path) ns = ns?.nested?.[name];
  const siblings = ns?.nested ?? {};
  const picked: Record<string, JsonNode> = {};
  const pending = [...types];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (picked[name]) continue;
    const node = siblings[name];
    if (!node || node.nested || node.methods) return undefined;
    picked[name] = node;
    for (const field of Object.values(node.fields ?? {})) if (!SCALARS.has(field.type)) pending.push(field.type);
  }
  // the namespaces down to `path`, with their options, holding only the picked types
  const build = (node: JsonNode, depth: number): JsonNode => {
    const name = path[depth];
    const child = name === undefined ? undefined : node.nested?.[name];
    return { ...node, nested: name === undefined || !child ? picked : { [name]: build(child, depth + 1) } };
  };
  return build(descriptor, 0);
}

const SCALARS = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'bool', 'string', 'bytes']);

/** The services of `descriptor` (a protobufjs Root as JSON), keyed by full name, as grpc.loadPackageDefinition takes them. */
export function serviceDefinitions(descriptor: Record<string, unknown>, options: Options): PackageDefinition {
  const conversion: protobuf.IConversionOptions = {
    ...(options.longs ? { longs: options.longs } : {}),
    ...(options.enums ? { enums: options.enums } : {}),
    defaults: options.defaults ?? false,
    oneofs: options.oneofs ?? false,
  };
  let whole: protobuf.Root | undefined;
  const rootFor = (path: readonly string[], types: readonly string[]): protobuf.Root => {
    const part = subset(descriptor, path, types);
    if (part) return protobuf.Root.fromJSON(part as protobuf.INamespace);
    return (whole ??= protobuf.Root.fromJSON(descriptor as protobuf.INamespace));
  };
  const out: PackageDefinition = {};
  const walk = (ns: JsonNode, path: readonly string[]): void => {
    for (const [name, obj] of Object.entries(ns.nested ?? {})) {
      const full = [...path, name].join('.');
      if (obj.methods) {
        const methods: Record<string, MethodDefinition> = {};
        for (const [method, m] of Object.entries(obj.methods)) {
          // built on the first (de)serialization of this method, once
          let codec: { req: Codec; res: Codec } | undefined;
          const types = (): { req: Codec; res: Codec } => {
            if (codec) return codec;
            const root = rootFor(path, [m.requestType, m.responseType]);
            const lookup = (type: string): Codec => {
              const t = root.lookupType(path.length ? `${path.join('.')}.${type}` : type);
              return { serialize: serializer(t), deserialize: deserializer(t, conversion) };
            };
            return (codec = { req: lookup(m.requestType), res: lookup(m.responseType) });
          };
          methods[method] = {
            path: `/${full}/${method}`,
            requestStream: !!m.requestStream,
            responseStream: !!m.responseStream,
            requestSerialize: (value: object) => types().req.serialize(value),
            requestDeserialize: (buf: Buffer) => types().req.deserialize(buf),
            responseSerialize: (value: object) => types().res.serialize(value),
            responseDeserialize: (buf: Buffer) => types().res.deserialize(buf),
            // grpc-js adds this camelCase alias on clients; proto-loader's is lodash.camelcase
            originalName: method.charAt(0).toLowerCase() + method.slice(1),
          };
        }
        out[full] = methods;
      } else if (obj.nested && !obj.fields && !obj.values) {
        walk(obj, [...path, name]);
      }
    }
  };
  walk(descriptor, []);
  return out;
}

interface Codec {
  serialize: (value: object) => Buffer;
  deserialize: (buf: Buffer) => object;
}
