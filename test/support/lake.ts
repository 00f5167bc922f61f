import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One event row as a lake's JSONL holds it. */
export interface EventRow {
  readonly event_id: string;
  readonly source: string;
  readonly user_id: string;
  readonly event_name: string;
  readonly ts: string;
  readonly properties?: Record<string, unknown> | null;
  readonly value?: number | null;
}

/** A product login of `user` at `ts` with event id `id`. */
export const login = (id: string, user: string, ts: string): EventRow => ({
  event_id: id,
  source: 'product',
  user_id: user,
  event_name: 'login',
  ts,
});

/** Writes events as JSONL into `dt=` partitions (by the UTC date of ts) and optional identities. */
export async function writeLake(
  dir: string,
  events: readonly EventRow[],
  identities: readonly { source: string; user_id: string; person_id: string }[] = [],
): Promise<void> {
  const byDay = new Map<string, EventRow[]>();
  for (const event of events) {
    const day = new Date(event.ts).toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), event]);
  }
  for (const [day, rows] of byDay) {
    await mkdir(join(dir, 'events', `dt=${day}`), { recursive: true });
    await writeFile(join(dir, 'events', `dt=${day}`, 'events.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }
  if (identities.length > 0) {
    await mkdir(join(dir, 'identities'), { recursive: true });
    await writeFile(join(dir, 'identities', 'identities.jsonl'), `${identities.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }
}

/** Writes definition files (name -> YAML text) into a folder. */
export async function writeDefinitions(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

/** A minimal valid definition's header lines. */
export const header = (id: string, extra = '') =>
  `id: ${id}\nname: ${id}\nowner: test-team\npurpose: A test cohort.\ncadence: daily\n${extra}`;
