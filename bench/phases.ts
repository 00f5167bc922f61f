/**
 * Bench-only phase timing: wraps methods of the classes a refresh runs through (tile store, engine)
 * so that `npm run bench` can split a refresh's time into phases. Nothing here runs outside bench/.
 */

/** Milliseconds spent per phase since the last {@link takePhases}. */
const spent = new Map<string, number>();
/** Time spent inside timed calls nested in the current one. */
let nested = 0;

/**
 * Wraps `method` of `proto` so that its time is added to `phase`. Nested timed calls are counted
 * in their own phase and subtracted from the outer one (each millisecond is counted once).
 */
export function timePhase(proto: object, method: string, phase: string): void {
  const target = proto as Record<string, unknown>;
  const original = target[method];
  if (typeof original !== 'function') throw new Error(`no method ${method} to time`);
  target[method] = async function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    const inner = nested;
    nested = 0;
    try {
      return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } finally {
      const total = performance.now() - start;
      spent.set(phase, (spent.get(phase) ?? 0) + total - nested);
      nested = inner + total;
    }
  };
}

/** The phases measured since the last call, then resets them. */
export function takePhases(): string {
  const text = [...spent]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`)
    .join(', ');
  spent.clear();
  nested = 0;
  return text;
}
