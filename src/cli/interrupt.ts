// Long-running commands (watch, logs -f) end normally on Ctrl-C. Free of gRPC imports, like
// context.ts: commands import it at start-up.

/** Waits for a stream to end; Ctrl-C (or SIGTERM) cancels it, which is a normal end (exit 0). */
export async function untilInterrupted(stream: { readonly done: Promise<void>; cancel(): void }): Promise<void> {
  const stop = (): void => stream.cancel();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await stream.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
