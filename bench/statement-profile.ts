/**
 * Bench-only statement timing: wraps a DuckDB connection's `run` and `runAndReadAll` so that
 * each statement's wall and process CPU time (DuckDB's threads included) and the process's peak
 * RSS after it are recorded under a label (the statement's first words). Nothing here runs
 * outside bench/.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DuckDBConnection } from '@duckdb/node-api';

interface Spent {
  wallMs: number;
  cpuMs: number;
  calls: number;
  peakMb: number;
}

/** The statements timed so far by {@link profileStatements}, by label. */
const spent = new Map<string, Spent>();

/** A short label of a statement: its first line, without literals' contents (file names, day lists). */
const labelOf = (sql: string) =>
  (sql.split('\n')[0] ?? '')
    .replace(/'[^']*'/g, "'.'")
    .replace(/\s+/g, ' ')
    .slice(0, 90);

/**
 * Wraps `connection`'s statement methods to record each statement's time. node-api's `runAndReadAll`
 * calls the connection's own `run` (wrapped too): only the outermost call of a statement is recorded
 * (else those statements counted twice, their time doubled), told apart by the async context, so
 * statements running at once on one connection are each recorded.
 */
export function profileStatements(connection: DuckDBConnection): void {
  const target = connection as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const inside = new AsyncLocalStorage<true>();
  for (const method of ['run', 'runAndReadAll'] as const) {
    const original = target[method];
    if (original === undefined) throw new Error(`no method ${method} to time`);
    target[method] = async function (this: unknown, ...args: unknown[]) {
      if (inside.getStore()) return original.apply(this, args);
      const start = performance.now();
      const cpu = process.cpuUsage();
      try {
        return await inside.run(true, () => original.apply(this, args));
      } finally {
        const used = process.cpuUsage(cpu);
        const label = labelOf(String(args[0]));
        const entry = spent.get(label) ?? { wallMs: 0, cpuMs: 0, calls: 0, peakMb: 0 };
        entry.wallMs += performance.now() - start;
        entry.cpuMs += (used.user + used.system) / 1000;
        entry.calls += 1;
        entry.peakMb = Math.max(entry.peakMb, process.resourceUsage().maxRSS / 1024);
        spent.set(label, entry);
      }
    };
  }
}

/** The statements timed since the last call, largest CPU first, then resets them. */
export function takeStatements(): string {
  const rows = [...spent]
    .sort((a, b) => b[1].cpuMs - a[1].cpuMs)
    .map(
      ([label, s]) =>
        `  ${(s.cpuMs / 1000).toFixed(2)} s CPU, ${(s.wallMs / 1000).toFixed(2)} s wall, x${s.calls}, peak ${s.peakMb.toFixed(0)} MB: ${label}`,
    );
  spent.clear();
  return rows.join('\n');
}
