// YAML config files validated by a strict zod schema: an unknown key or a wrong type stops the
// program with the path of the offending key.
import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { InvalidArgumentError } from './errors.js';
import { parseDurationMs, parseSizeMiB } from './units.js';

export function formatZodIssue(issue: z.core.$ZodIssue, prefix = ''): { field: string; message: string } {
  const path = issue.path.map(String).join('.');
  return { field: prefix + (path || '(root)'), message: issue.message };
}

/** Reads and validates a YAML file; errors name the file and the key. */
export function loadYamlConfig<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError('config', `cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
    throw new InvalidArgumentError('config', `${file} is not valid YAML: ${detail}`);
  }
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const first = result.error.issues[0];
    const { field, message } = first ? formatZodIssue(first) : { field: '(root)', message: 'invalid' };
    throw new InvalidArgumentError(field, `${message} (in ${file})`);
  }
  return result.data;
}

/** A duration string ("30s", "10m") → milliseconds. */
export const durationMs = z.string().transform((s, ctx) => {
  try {
    return parseDurationMs(s, 'duration');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^duration: /, '') });
    return z.NEVER;
  }
});

/** A size (number of MiB, or "512MiB"/"2GiB") → MiB. */
export const sizeMiB = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSizeMiB(v, 'size');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^size: /, '') });
    return z.NEVER;
  }
});

/** host:port */
export const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected HOST:PORT');
