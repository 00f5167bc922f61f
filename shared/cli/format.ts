import pc from 'picocolors';
import type { TilesSummary, WorkflowSummary } from '../workflow/types.ts';

const pad = (text: string, width: number, right = false) => {
  const visible = text.replace(/\x1b\[[0-9;]*m/g, '').length;
  const fill = ' '.repeat(Math.max(0, width - visible));
  return right ? fill + text : text + fill;
};

/** `1 file`, `2 files`: a count with its noun in the number it takes (`plural` when adding s is wrong). */
export function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/** A plain text table; colour codes do not count towards widths. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').replace(/\x1b\[[0-9;]*m/g, '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, rightAligned.includes(i)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => pc.bold(h))), ...rows.map(line)].join('\n');
}

const signed = (n: number, sign: string) => (n === 0 ? pc.dim(`${sign}0`) : `${sign}${n}`);

function statusText(status: string): string {
  if (status === 'published') return pc.green(status);
  if (status === 'held') return pc.red(status);
  return pc.dim(status);
}

/** The summary `cohorts run` prints. */
export function formatRunSummary(summary: WorkflowSummary): string {
  const rows = summary.cohorts.map((c) => {
    const warned = c.checks.filter((k) => k.status === 'warn').map((k) => k.name);
    const failed = c.checks.filter((k) => k.status === 'fail').map((k) => k.name);
    const notes = [...failed.map((n) => pc.red(`fail:${n}`)), ...warned.map((n) => pc.yellow(`warn:${n}`))].join(' ');
    return [c.cohort, `v${c.version}`, String(c.size), signed(c.entered, '+'), signed(c.exited, '-'), statusText(c.status), notes];
  });
  const held = summary.cohorts.filter((c) => c.status === 'held').length;
  const unchanged = summary.cohorts.filter((c) => c.status === 'unchanged').length;
  const published = summary.cohorts.length - held - unchanged;
  // A lake-wide warning (layout, refused records) is one message, whichever cohort carries it.
  const lakeWide = (name: string) => name === 'lake.layout' || name === 'lake.refused';
  const lakeWarnings = [...new Set(summary.cohorts.flatMap((c) => c.checks.filter((k) => lakeWide(k.name)).map((k) => k.message)))];
  return [
    table(['cohort', 'version', 'size', 'entered', 'exited', 'status', 'checks'], rows, [2, 3, 4]),
    ...lakeWarnings.map((message) => pc.yellow(`warning: ${message}`)),
    '',
    `as of ${summary.as_of}: ${summary.population} people, ${published} published, ${held} held, ${unchanged} unchanged ` +
      `in ${(summary.duration_ms / 1000).toFixed(1)} s (run ${summary.run_id})`,
    formatTilesLine(summary.tiles),
  ].join('\n');
}

/** Bytes in MB with one decimal (1 MB = 10^6 bytes, as Athena bills). */
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * How the run computed its cohorts: the mode, the tile days built, rebuilt and reused, the
 * measures read raw, and the bytes read beside a full refresh's.
 */
export function formatTilesLine(tiles: TilesSummary): string {
  const bytes = tiles.bytes_scanned ?? {};
  const read = [
    ...(bytes.tiles_build === undefined ? [] : [`tiles built from ${mb(bytes.tiles_build)}`]),
    ...(bytes.evaluate === undefined ? [] : [`read ${mb(bytes.evaluate)}`]),
  ];
  if (tiles.mode === 'full') return `full refresh from raw events (no tile read or built)${read.length > 0 ? `; ${read.join(', ')}` : ''}`;
  const mode = tiles.mode === 'verify' ? 'tiles, verified against the full computation' : 'tiles';
  const expired = tiles.expired_days === undefined ? '' : `, ${tiles.expired_days} expired`;
  const days = `${tiles.built_days} days built, ${tiles.rebuilt_days} rebuilt, ${tiles.reused_days} reused${expired}`;
  const raw = tiles.raw_measures.length === 1 ? '1 measure read raw' : `${tiles.raw_measures.length} measures read raw`;
  const full = bytes.full_estimate === undefined ? '' : ` (a full refresh reads ${mb(bytes.full_estimate)})`;
  return `${mode}: ${days}; ${raw}${read.length > 0 ? `; ${read.join(', ')}` : ''}${full}`;
}
