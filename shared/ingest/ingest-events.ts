import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { INGEST_ERRORS_PREFIX, LOCAL_REFUSED_KIND } from '../bucket-layout.ts';
import { FsBlobStore } from '../local/fs-blob-store.ts';
import { judgeEventLines } from './event-lines.ts';

/** What {@link ingestEvents} appends to a lake folder. */
export interface IngestRequest {
  /** The lake folder (`--data`). */
  readonly lakeDir: string;
  /** The input's lines, as splitLines cut them. */
  readonly lines: readonly string[];
  /** Where the lines came from (a file name, or `-` for standard input), kept with each refused line. */
  readonly input: string;
  /** The time of the ingestion: names the files and dates the refused lines' folder. */
  readonly now: Date;
}

/** A line that was not appended, with its 1-based number in the input and why. */
export interface RefusedLine {
  readonly line: number;
  readonly reason: string;
}

/** What {@link ingestEvents} wrote. */
export interface IngestResult {
  /** One new file per UTC day of the events: its key under the lake folder and how many events it holds. */
  readonly written: readonly { readonly dt: string; readonly key: string; readonly events: number }[];
  readonly refused: readonly RefusedLine[];
  /** The key of the file holding the refused lines, when there were any. */
  readonly refusedKey?: string;
}

/**
 * Appends the valid events among `lines` to the lake folder, each in a new file of the partition
 * of its ts's UTC day (`events/dt=YYYY-MM-DD/ingest-<time>-<id>.jsonl`), exactly as written: the
 * reader then reads what was judged. Every file is written under a `.tmp-` name and then linked
 * into place, so a refresh running meanwhile reads each file whole or not at all. Refused lines
 * go, with their number and reason, to `events-errors/ingest-refused/dt=<day of now>/`, which the
 * source checks count, as they count Firehose's error output in the cloud.
 */
export async function ingestEvents(connection: DuckDBConnection, request: IngestRequest): Promise<IngestResult> {
  const verdicts = await judgeEventLines(connection, request.lines);
  const byDay = new Map<string, string[]>();
  const refused: (RefusedLine & { readonly text: string })[] = [];
  for (const verdict of verdicts) {
    if ('reason' in verdict) refused.push({ line: verdict.line, reason: verdict.reason, text: verdict.text });
    else {
      const texts = byDay.get(verdict.dt) ?? [];
      texts.push(verdict.text);
      byDay.set(verdict.dt, texts);
    }
  }
  const lake = new FsBlobStore(request.lakeDir);
  const name = `ingest-${request.now.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}.jsonl`;
  const written: { dt: string; key: string; events: number }[] = [];
  for (const [dt, texts] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const key = `events/dt=${dt}/${name}`;
    await lake.create(key, texts.map((text) => `${text}\n`).join(''));
    written.push({ dt, key, events: texts.length });
  }
  if (refused.length === 0) return { written, refused };
  const refusedKey = `${INGEST_ERRORS_PREFIX}${LOCAL_REFUSED_KIND}/dt=${request.now.toISOString().slice(0, 10)}/${name}`;
  const records = refused.map(({ line, reason, text }) => `${JSON.stringify({ input: request.input, line, reason, text })}\n`);
  await lake.create(refusedKey, records.join(''));
  return { written, refused: refused.map(({ line, reason }) => ({ line, reason })), refusedKey };
}
