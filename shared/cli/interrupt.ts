/**
 * A signal that aborts on the first SIGINT (Ctrl-C) or SIGTERM, for commands that run until
 * stopped (`watch`, `sample-data --stream`): they finish what they are doing and return. A second
 * Ctrl-C finds no handler and stops the process at once. `dispose` removes the handlers.
 */
export function untilInterrupted(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => {
    dispose();
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { signal: controller.signal, dispose };
}
