// Node lists as batch schedulers hand them over, and which of them a site manages. Pure: the
// `site reclaim`/`release` commands and the Slurm/OAR hooks (contrib/) rely on these rules.
import { InvalidArgumentError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';

/**
 * `n1,n2`, `n1 n2`, one per line (Slurm's `scontrol show hostnames`, OAR's `$OAR_NODEFILE`, which
 * repeats a host once per core) or `n1+n2` (OAR's `assigned_hostnames`) → distinct names, in order.
 */
export function parseNodes(text: string): string[] {
  const nodes = text.split(/[,+\s]+/).filter((n) => n !== '');
  if (nodes.length === 0) throw new InvalidArgumentError('--nodes', 'give at least one node, e.g. --nodes a1,a2');
  return [...new Set(nodes.map((n) => checkName(n, '--nodes')))];
}

export interface ManagedSplit {
  /** nodes the site has: these are reclaimed or released */
  managed: string[];
  /** nodes the site does not have (another partition, a login node): left alone */
  unmanaged: string[];
}

/** Splits `nodes` by whether they are among the site's `known` nodes, keeping their order. */
export function splitManaged(nodes: readonly string[], known: readonly string[]): ManagedSplit {
  const have = new Set(known);
  return { managed: nodes.filter((n) => have.has(n)), unmanaged: nodes.filter((n) => !have.has(n)) };
}
