import { fileValues, isPersonList } from './file-values.ts';
import { dropPersonRows } from './person-csv.ts';
import { idForms } from './person-hash.ts';
import { withoutPersonEvents } from './person-events.ts';
import type { PrivacyPorts } from './ports.ts';
import { isTempFile, sweepOf, sweptKeys } from './sweep.ts';
import type { SweptFiles } from '../ports.ts';

/** What the sweep of one erasure did, by location (never the id). */
export interface SweepOutcome {
  /** Files rewritten without the person (person lists and CSV of incomplete versions, any other list). */
  readonly rewritten: readonly string[];
  /** Crash leftovers deleted (`.tmp-*` files, files of incomplete versions that could not be rewritten). */
  readonly deleted: readonly string[];
  /** Files that still hold the person: neither a list erasure can rewrite nor a leftover it may delete. */
  readonly left: readonly string[];
  /** Files whose bytes could not be read as Parquet, gzip or text, so may hold the person. */
  readonly unreadable: readonly string[];
  /** The keys of `left` and `unreadable`, for the erasure record. */
  readonly leftKeys: readonly string[];
}

/**
 * The last pass of an erasure: every file of the swept areas (the whole state folder locally;
 * `snapshots/`, `privacy/` and `exports/` in the cloud) read by what its bytes are, and each that
 * still holds the person rewritten without them (a one-column person list, a CSV with a
 * `person_id` column, the suppression list, the per-member lines of an event log), or, for a crash leftover where the store may
 * delete, deleted (it was never published). Files of complete versions are never deleted.
 */
export async function sweepPerson(drop: ReadonlySet<string>, ports: PrivacyPorts): Promise<SweepOutcome> {
  const outcome = {
    rewritten: [] as string[],
    deleted: [] as string[],
    left: [] as string[],
    unreadable: [] as string[],
    leftKeys: [] as string[],
  };
  for await (const { files, key, leftover } of sweptKeys(sweepOf(ports))) {
    const bytes = await files.get(key);
    if (!bytes) continue;
    const read = await fileValues(key, bytes);
    const holds = 'values' in read && [...drop].some((form) => read.values.has(form));
    if ('values' in read && !holds) continue;
    const where = files.locate(key);
    // A .tmp- file is deleted; a started version's lists are rewritten (a refresh may be about to
    // complete it), or deleted when they are not lists.
    if (files.remove && isTempFile(key)) {
      await files.remove(key);
      outcome.deleted.push(where);
    } else if (await rewriteWithout(files, key, bytes, drop, ports)) {
      outcome.rewritten.push(where);
    } else if (leftover && files.remove) {
      await files.remove(key);
      outcome.deleted.push(where);
    } else {
      (holds ? outcome.left : outcome.unreadable).push(where);
      outcome.leftKeys.push(key);
    }
  }
  return outcome;
}

/** Rewrites a file without the person when it is a list erasure knows; false when it is not. */
async function rewriteWithout(
  files: SweptFiles,
  key: string,
  bytes: Uint8Array,
  drop: ReadonlySet<string>,
  ports: PrivacyPorts,
): Promise<boolean> {
  const text = Buffer.from(bytes).toString('utf8');
  if (key === ports.settings.suppression_list) {
    const lines = text.split('\n');
    const kept = lines.filter((line) => !idForms(line).some((form) => drop.has(form)));
    if (kept.length === lines.length) return false;
    await files.put(key, kept.join('\n'));
    return true;
  }
  if (/\.jsonl$/i.test(key)) {
    const kept = withoutPersonEvents(text, drop);
    if (kept === undefined) return false;
    await files.put(key, kept);
    return true;
  }
  if (/\.csv$/i.test(key)) {
    const result = dropPersonRows(text, (id) => drop.has(id));
    if (!result || result.removed === 0) return false;
    await files.put(key, result.text);
    return true;
  }
  if (!isPersonList(bytes)) return false;
  let members: string[];
  try {
    members = await ports.codec.decode(bytes);
  } catch {
    return false;
  }
  const kept = members.filter((id) => !drop.has(id));
  if (kept.length === members.length) return false;
  await files.put(key, await ports.codec.encode(kept));
  return true;
}
