/**
 * Bench-only phase timing: wraps methods of the classes a refresh runs through (tile store, engine)
 * so that `npm run bench` can split a refresh's time into phases. Nothing here runs outside bench/.
 */

/** Milliseconds spent per phase since the last {@link takePhases}. */
const spent = new Map<string, number>();
/** Time spent inside timed calls nested in the current one. */
let nested = 0;
/** The process's peak RSS (MB) as it stood after the last timed call, and the phases during which it rose. */
let peakMb = 0;
const raisedPeak = new Map<string, number>();

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
      const peak = process.resourceUsage().maxRSS / 1024;
      if (peak > peakMb) {
        peakMb = peak;
        raisedPeak.set(phase, peak);
      }
    }
  };
}

/**
 * The phases measured since the last call, then resets them; a phase during which the process's
 * peak RSS rose says the peak it reached (the peak of a whole run is that of the last such phase).
 */
export function takePhases(): string {
  const text = [...spent]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, ms]) => {
      const peak = raisedPeak.get(phase);
      return `${phase} ${(ms / 1000).toFixed(2)} s${peak === undefined ? '' : ` (peak RSS ${peak.toFixed(0)} MB)`}`;
    })
    .join(', ');
  spent.clear();
  raisedPeak.clear();
  nested = 0;
  return text;
}
