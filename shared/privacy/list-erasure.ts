import { idForms } from './person-hash.ts';
import type { ListsArea } from './ports.ts';

/** Whether a line of a list is one of the person's forms (written or normalized, as entries match). */
const isPerson = (line: string, drop: ReadonlySet<string>) => idForms(line).some((form) => drop.has(form));

/** The text without the lines that are the person (every other line kept byte for byte, its end of line too); undefined when none is. */
export function withoutListLines(text: string, drop: ReadonlySet<string>): string | undefined {
  const parts = text.split(/(\r\n|\r|\n)/);
  let kept = '';
  let removed = false;
  for (let i = 0; i < parts.length; i += 2) {
    const line = parts[i] as string;
    if (isPerson(line, drop)) removed = true;
    else kept += line + (parts[i + 1] ?? '');
  }
  return removed ? kept : undefined;
}

/** The list files of the area, in key order. */
async function listKeys(area: ListsArea): Promise<string[]> {
  return (await area.files.list(area.prefix)).filter((key) => key.endsWith('.csv'));
}

/** Rewrites every list that holds the person without their lines; returns the files rewritten. */
export async function eraseFromLists(area: ListsArea, drop: ReadonlySet<string>): Promise<string[]> {
  const rewritten: string[] = [];
  for (const key of await listKeys(area)) {
    const bytes = await area.files.get(key);
    if (!bytes) continue;
    const kept = withoutListLines(Buffer.from(bytes).toString('utf8'), drop);
    if (kept === undefined) continue;
    await area.files.put(key, kept);
    rewritten.push(area.files.locate(key));
  }
  return rewritten;
}

/** Each list file that still holds a forgotten person, with the record's name; never the id. */
export async function forgottenInLists(
  area: ListsArea,
  /** The forgotten people (screen.ts PrivacyLists; structural here, as ports.ts imports this file). */
  lists: { readonly forgotten: { readonly size: number }; forgottenRecord(id: string): string | undefined },
): Promise<{ location: string; record: string }[]> {
  if (lists.forgotten.size === 0) return [];
  const found: { location: string; record: string }[] = [];
  for (const key of await listKeys(area)) {
    const bytes = await area.files.get(key);
    if (!bytes) continue;
    const records = new Set<string>();
    for (const line of Buffer.from(bytes)
      .toString('utf8')
      .split(/\r\n|\r|\n/)) {
      for (const form of idForms(line)) {
        const record = lists.forgottenRecord(form);
        if (record !== undefined) records.add(record);
      }
    }
    for (const record of records) found.push({ location: area.files.locate(key), record });
  }
  return found;
}
