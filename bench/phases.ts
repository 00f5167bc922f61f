/**
 * Bench-only phase timing: wraps methods of the classes a refresh runs through (tile store, engine)
 * so that `npm run bench` can split a refresh's time into phases. Nothing here runs outside bench/.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Milliseconds spent per phase since the last {@link takePhases}. */
const spent = new Map<string, number>();
/** The timed call a call runs inside (through awaits too), and the time spent in timed calls nested in it. */
const frames = new AsyncLocalStorage<{ readonly phase: string; nestedMs: number }>();
/** The process's peak RSS (MB) as it stood after the last timed call, and the phases during which it rose. */
let peakMb = 0;
const raisedPeak = new Map<string, number>();

/**
 * Wraps `method` of `proto` so that its time is added to `phase`. Nested timed calls are counted
 * in their own phase and subtracted from the outer one (each millisecond is counted once); a call
 * inside a call of the same phase (a store method calling another, several at once) is the outer one's,
 * and so is, with `outermost`, a call inside any timed call (a general method such as the engine's rows).
 */
export function timePhase(proto: object, method: string, phase: string, options: { readonly outermost?: boolean } = {}): void {
  const target = proto as Record<string, unknown>;
  const original = target[method];
  if (typeof original !== 'function') throw new Error(`no method ${method} to time`);
  target[method] = function (this: unknown, ...args: unknown[]) {
    const parent = frames.getStore();
    if (parent?.phase === phase || (options.outermost && parent)) return (original as (...a: unknown[]) => unknown).apply(this, args);
    const frame = { phase, nestedMs: 0 };
    const start = performance.now();
    return frames.run(frame, async () => {
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      } finally {
        const total = performance.now() - start;
        spent.set(phase, (spent.get(phase) ?? 0) + Math.max(0, total - frame.nestedMs));
        if (parent) parent.nestedMs += total;
        const peak = process.resourceUsage().maxRSS / 1024;
        if (peak > peakMb) {
          peakMb = peak;
          raisedPeak.set(phase, peak);
        }
      }
    });
  };
}

/** {@link timePhase} for several methods of one class, all counted in one phase. */
export function timePhases(proto: object, methods: readonly string[], phase: string): void {
  for (const method of methods) timePhase(proto, method, phase);
}

/**
 * The phases measured since the last call, then resets them; a phase during which the process's
 * peak RSS rose says the peak it reached (the peak of a whole run is that of the last such phase).
 * Given the run's wall time, the time in no phase is printed too, last.
 */
export function takePhases(totalMs?: number): string {
  const measured = [...spent.values()].reduce((sum, ms) => sum + ms, 0);
  const outside = totalMs === undefined ? [] : [`(in no phase) ${(Math.max(0, totalMs - measured) / 1000).toFixed(2)} s`];
  const text = [...spent]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, ms]) => {
      const peak = raisedPeak.get(phase);
      return `${phase} ${(ms / 1000).toFixed(2)} s${peak === undefined ? '' : ` (peak RSS ${peak.toFixed(0)} MB)`}`;
    })
    .concat(outside)
    .join(', ');
  spent.clear();
  raisedPeak.clear();
  return text;
}
