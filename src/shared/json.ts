// Text that should be JSON of a known shape (a file, a token): parsed and checked in one step,
// the problem said in words (a syntax error or the first schema issue), never thrown raw.
import type { z } from 'zod';

export type Checked<T> = { ok: true; data: T } | { ok: false; problem: string };

/** `whole`: how the problem names the top level (a file, a token). */
export function parseJsonAs<S extends z.ZodType>(schema: S, text: string, whole = 'the whole value'): Checked<z.output<S>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const checked = schema.safeParse(parsed);
  if (checked.success) return { ok: true, data: checked.data };
  const issue = checked.error.issues[0];
  return { ok: false, problem: issue ? `${issue.path.join('.') || `(${whole})`}: ${issue.message}` : 'invalid' };
}
