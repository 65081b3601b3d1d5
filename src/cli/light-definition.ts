// gRPC service definitions for the CLI from a generated descriptor (src/gen/descriptors/), built
// with protobufjs's light build: what @grpc/proto-loader's fromJSON does for a service's methods
// (same serializers: fromObject + encode, decode + toObject with the loader's options), without
// the rest it builds at load time and the CLI never uses (loading the full protobufjs with its
// .proto parser, and a FileDescriptorProto per type, for reflection). A prolog pays for every
// module the CLI loads: this halves protobuf's share of the start-up (docs/design-notes.md).
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

/** The services of `descriptor` (a protobufjs Root as JSON), keyed by full name, as grpc.loadPackageDefinition takes them. */
export function serviceDefinitions(descriptor: Record<string, unknown>, options: Options): PackageDefinition {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  root.resolveAll();
  const conversion: protobuf.IConversionOptions = {
    ...(options.longs ? { longs: options.longs } : {}),
    ...(options.enums ? { enums: options.enums } : {}),
    defaults: options.defaults ?? false,
    oneofs: options.oneofs ?? false,
  };
  const out: PackageDefinition = {};
  const walk = (ns: protobuf.NamespaceBase, prefix: string): void => {
    for (const obj of ns.nestedArray) {
      const name = prefix ? `${prefix}.${obj.name}` : obj.name;
      if (obj instanceof protobuf.Service) {
        const methods: Record<string, MethodDefinition> = {};
        for (const m of obj.methodsArray) {
          const req = m.resolvedRequestType as protobuf.Type;
          const res = m.resolvedResponseType as protobuf.Type;
          methods[m.name] = {
            path: `/${name}/${m.name}`,
            requestStream: !!m.requestStream,
            responseStream: !!m.responseStream,
            requestSerialize: serializer(req),
            requestDeserialize: deserializer(req, conversion),
            responseSerialize: serializer(res),
            responseDeserialize: deserializer(res, conversion),
            // grpc-js adds this camelCase alias on clients; proto-loader's is lodash.camelcase
            originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
          };
        }
        out[name] = methods;
      } else if (obj instanceof protobuf.Namespace) {
        walk(obj, name);
      }
    }
  };
  walk(root, '');
  return out;
}
