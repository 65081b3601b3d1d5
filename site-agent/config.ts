// The site agent's YAML config (config/site-*.yaml), validated by a strict schema: an unknown key,
// a wrong type or a bad name stops the agent with the path of the offending key.
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseMacRange, parseSubnetPool } from '../src/shared/addresses.js';
import { durationMs, hostPort, loadYamlConfig, sizeMiB } from '../src/shared/config.js';
import { NAME_PATTERN } from '../src/shared/names.js';
import { tlsConfigSchema } from '../src/shared/tls-config.js';
import { metricsConfigSchema } from '../src/shared/metrics-http.js';
import { ACCELS } from './domain-xml.js';

const NAME_RULE = 'use 1–32 characters from [a-z0-9-], starting and ending with a letter or digit';

const name = z.string().regex(NAME_PATTERN, NAME_RULE);

/** A file path; relative paths are taken from the working directory (the repo root in the demo). */
const path = z
  .string()
  .min(1, 'must not be empty')
  .transform((p) => resolve(p));

/**
 * A string the given shared parser accepts (the value stays as written: the coordinator
 * canonicalises it). The agent applies the coordinator's own rules so that a bad pool or MAC range
 * stops it before it writes anything, rather than at registration.
 */
const checkedBy = (parse: (text: string, field: string) => unknown) =>
  z.string().superRefine((text, ctx) => {
    try {
      parse(text, 'value');
    } catch (err) {
      // The key path comes from zod; drop the parser's own field prefix.
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^value: /, '') });
    }
  });

const positiveInt = z.number().int('must be a whole number').positive('must be larger than zero');

const node = z.strictObject({
  name,
  /** a libvirt URI: test:///default, qemu:///system, qemu+ssh://host/system */
  uri: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/, 'expected a libvirt URI such as qemu:///system or test:///default'),
  cpus: positiveInt,
  memoryMiB: sizeMiB,
  /** `auto` (KVM where the host really has hardware virtualization, else TCG), `kvm` or `tcg` */
  accel: z.enum(ACCELS).default('auto'),
});

// One object with every image key optional, checked below, rather than a union: a union's error
// would say "invalid input" at the image instead of naming the key that is wrong.
const image = z
  .strictObject({
    kernel: path.optional(),
    initrd: path.optional(),
    cmdline: z.string().optional(),
    /** a base disk image; each VM runs on its own qcow2 overlay of it (with `kernel`: its root disk) */
    disk: path.optional(),
  })
  .superRefine((img, ctx) => {
    // a kernel-booted image may also have a root disk (e.g. a debootstrapped file system)
    if (img.disk !== undefined && img.kernel === undefined) {
      for (const key of ['kernel', 'initrd', 'cmdline'] as const) {
        if (img[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'a disk image with a kernel needs kernel and initrd; or give only {disk}' });
        }
      }
      return;
    }
    if (img.kernel === undefined) ctx.addIssue({ code: 'custom', path: ['kernel'], message: 'required (or give `disk` instead)' });
    if (img.initrd === undefined) ctx.addIssue({ code: 'custom', path: ['initrd'], message: 'required (or give `disk` instead)' });
  })
  .transform((img): ImageConfig =>
    img.kernel === undefined
      ? { kind: 'disk', disk: img.disk as string }
      : {
          kind: 'kernel',
          kernel: img.kernel,
          initrd: img.initrd as string,
          cmdline: img.cmdline ?? 'console=ttyS0',
          ...(img.disk !== undefined ? { disk: img.disk } : {}),
        },
  );

export type ImageConfig =
  /** `disk`: a root disk image for the kernel (each VM on its own overlay of it) */
  | { kind: 'kernel'; kernel: string; initrd: string; cmdline: string; disk?: string | undefined }
  | { kind: 'disk'; disk: string };

export const siteConfigSchema = z
  .strictObject({
    site: name,
    /** the coordinator's registry API: one address, or the list of a grid's coordinators (`store: etcd`: the agent follows the leader) */
    coordinator: z.union([hostPort, z.array(hostPort).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    /** where this agent serves AgentService */
    listen: hostPort,
    /** where the coordinator reaches it (defaults to `listen`) */
    advertise: hostPort.optional(),
    /** the grid CA and this site's certificate (role site, CN = `site`); required unless --insecure */
    tls: tlsConfigSchema.optional(),
    /** defaults to .brine/<site> */
    dataDir: path.optional(),
    nodes: z
      .array(node)
      .min(1, 'a site needs at least one node')
      .superRefine((nodes, ctx) => {
        const seen = new Set<string>();
        nodes.forEach((n, i) => {
          if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate node name "${n.name}"` });
          seen.add(n.name);
        });
      }),
    images: z
      .record(name, image)
      .refine((imgs) => Object.keys(imgs).length > 0, 'a site needs at least one image'),
    network: z.strictObject({
      /** CIDR the coordinator leases cluster subnets from (it also checks overlaps between sites) */
      subnetPool: checkedBy(parseSubnetPool),
      /** locally administered unicast MAC range, e.g. 02:b1:0a:00:00:00/32 */
      macRange: checkedBy(parseMacRange),
      /**
       * none (the default): every cluster network is isolated. nat: a job that asks (`submit
       * --egress`) gets a network NATed by libvirt to whatever the host routes to.
       */
      egress: z.enum(['none', 'nat'], { error: 'must be none or nat' }).default('none'),
    }),
    snapshots: z
      .strictObject({
        every: durationMs.prefault('30m'),
        keep: positiveInt.default(3),
        replicas: z.number().int('must be a whole number').nonnegative('must not be negative').default(1),
      })
      .prefault({}),
    transfer: z
      .strictObject({
        maxConcurrent: positiveInt.default(2),
        bandwidthMiBps: z.number().positive('must be larger than zero').default(200),
      })
      .prefault({}),
    /**
     * Output disks (`submit --output-disk SIZE`): the largest one a VM may have here. 0: jobs
     * asking for one are not placed on this site.
     */
    outputDisk: z
      .strictObject({ max: z.union([z.literal(0), sizeMiB]).default(1024) })
      .prefault({}),
    /** Prometheus `/metrics` over plain HTTP on `metrics.listen` (README, Monitoring); absent: off */
    metrics: metricsConfigSchema.optional(),
    /** how often the agent looks at libvirt for VMs that changed state by themselves */
    pollInterval: durationMs.prefault('1s'),
  })
  .transform((c) => ({
    ...c,
    advertise: c.advertise ?? c.listen,
    dataDir: c.dataDir ?? resolve('.brine', c.site),
    /** jobs asking for egress may run here (network.egress: nat) */
    egress: c.network.egress === 'nat',
    /** the largest output disk per VM, in MiB (outputDisk.max; 0: none) */
    maxOutputDiskMiB: c.outputDisk.max,
  }));

export type SiteConfig = z.infer<typeof siteConfigSchema>;
export type NodeConfig = SiteConfig['nodes'][number];

/** Reads and validates a site config file; throws InvalidArgumentError naming the key. */
export function loadSiteConfig(file: string): SiteConfig {
  return loadYamlConfig(file, siteConfigSchema);
}
