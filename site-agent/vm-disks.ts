// A new VM's writable disks at deploy (clusters.ts): its root disk overlay, if its image has a
// disk, and its output disk (`submit --output-disk`, ./output-disk.ts), each made only if missing
// (a retried deploy finds them) and recorded in `created` so a failed deploy removes them.
import type { HostFiles } from './host-files.js';
import type { OutputDiskTool } from './output-disk.js';
import type { Created } from './undo-created.js';

export interface VmDiskDeps {
  files: Pick<HostFiles, 'exists' | 'createOverlay'>;
  outputDisks: Pick<OutputDiskTool, 'create'>;
}

export async function prepareVmDisks(
  d: VmDiskDeps,
  o: { overlay?: { base: string; path: string } | undefined; output?: { sizeMiB: number; path: string } | undefined; testDriver: boolean; created: Created },
): Promise<{ overlay?: string | undefined; output?: string | undefined }> {
  // The test driver never reads the root disk; anywhere else each VM writes to its own overlay.
  if (o.overlay && !o.testDriver && !(await d.files.exists(o.overlay.path))) {
    await d.files.createOverlay(o.overlay.base, o.overlay.path);
    o.created.files.push(o.overlay.path);
  }
  // A real file on the test driver too: `brine output` reads it after the job ends.
  if (o.output && !(await d.files.exists(o.output.path))) {
    await d.outputDisks.create(o.output.path, o.output.sizeMiB);
    o.created.files.push(o.output.path);
  }
  return { overlay: o.overlay?.path, output: o.output?.path };
}
