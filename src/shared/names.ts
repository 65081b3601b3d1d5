// Names of jobs, sites, nodes and images: they end up in libvirt domain and network names.
import { InvalidArgumentError } from './errors.js';

export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkName(value: string, field: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      field,
      `"${value}" is not a valid name: use 1–32 characters from [a-z0-9-], starting and ending with a letter or digit`,
    );
  }
  return value;
}
