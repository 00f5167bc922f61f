import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pc from 'picocolors';
import { splitLines } from '../ingest/event-lines.ts';
import { ingestEvents } from '../ingest/ingest-events.ts';
import { removeLakeLeftovers } from '../ingest/ingest-leftovers.ts';
import { openDuckDb } from '../local/open-duckdb.ts';
import { readNamedFile } from './named-file.ts';
import type { Folders, Output } from './io.ts';

/** Where `cohorts ingest` reads from: a file, or standard input for `-`. */
export interface IngestInput {
  readonly name: string;
  read(): Promise<Uint8Array>;
}

const INGEST_READS = 'cohorts ingest reads a JSON Lines file (gzip too), or - for standard input';

/** The input named on the command line; `-` is standard input. */
export function ingestInput(name: string): IngestInput {
  if (name !== '-') return { name, read: async () => new Uint8Array(await readNamedFile(name, INGEST_READS)) };
  return {
    name,
    read: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
  };
}

/** The input as text: gunzipped when it is gzip, and strict UTF-8 (as the lake reader demands). */
function inputText(bytes: Uint8Array, name: string): string {
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(gzip ? gunzipSync(bytes) : bytes);
  } catch (error) {
    throw new Error(`${name} is not ${gzip ? 'a readable gzip file of ' : ''}UTF-8 text: ${(error as Error).message}`);
  }
}

/**
 * `cohorts ingest FILE|-`: appends the file's valid events to the lake folder (shared/ingest),
 * prints one line per refused line (its number and why) and per file written; exit 1 when any
 * line was refused (the valid ones are kept all the same). First removes the temporary files a
 * killed ingest left in the lake (shared/ingest/ingest-leftovers.ts), saying so.
 */
export async function ingestCommand(folders: Folders, input: IngestInput, io: Output, now = new Date()): Promise<number> {
  const lines = splitLines(inputText(await input.read(), input.name));
  const leftovers = await removeLakeLeftovers(folders.data, now);
  if (leftovers.length > 0) {
    const files = `${leftovers.length} temporary file${leftovers.length === 1 ? '' : 's'}`;
    io.err(`removed ${files} an interrupted ingest left in ${folders.data} (unchanged for over an hour)`);
  }
  const connection = await openDuckDb({ threads: 1 });
  let result;
  try {
    result = await ingestEvents(connection, { lakeDir: folders.data, lines, input: input.name, now });
  } finally {
    connection.closeSync();
  }
  for (const { line, reason } of result.refused) io.err(pc.red(`${input.name}:${line}: refused: ${reason}`));
  for (const { key, events } of result.written) io.out(`${join(folders.data, key)}: ${events} event${events === 1 ? '' : 's'}`);
  const kept = result.written.reduce((sum, file) => sum + file.events, 0);
  const summary = `ingested ${kept} event${kept === 1 ? '' : 's'} into ${result.written.length} partition${result.written.length === 1 ? '' : 's'}`;
  if (result.refusedKey === undefined) {
    io.err(summary);
    return 0;
  }
  const refused = result.refused.length;
  io.err(pc.yellow(`${summary}; ${refused} line${refused === 1 ? '' : 's'} refused, kept in ${join(folders.data, result.refusedKey)}`));
  return 1;
}
