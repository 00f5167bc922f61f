import { describe, expect, it } from 'vitest';
import { athenaCsvRows, type CsvRow, InvalidAthenaCsvError } from '../../shared/cloud/athena-csv.ts';

/** Every row of a file delivered in the given chunks. */
async function read(chunks: Uint8Array[]): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const batch of athenaCsvRows(chunks)) rows.push(...batch);
  return rows;
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** A result file as Athena writes it: quoted values, quotes doubled, NULL empty, `\n` after each row. */
const FILE = '"person_id","n"\n"a",\n"o\'brien, ""jr""","2"\n"line\nbreak",""\n"😀é",\n';
const ROWS: CsvRow[] = [
  ['person_id', 'n'],
  ['a', null],
  ['o\'brien, "jr"', '2'],
  ['line\nbreak', ''],
  ['😀é', null],
];

describe('the Athena result file reader', () => {
  it('reads quoted values with commas, doubled quotes and line breaks, and tells NULL from empty text', async () => {
    expect(await read([bytes(FILE)])).toEqual(ROWS);
  });

  it('reads the same rows however the file is cut into chunks, even inside a character', async () => {
    // Prepare
    const whole = bytes(FILE);
    // Act & Assess: a cut after every byte.
    for (let cut = 1; cut < whole.length; cut++) {
      expect(await read([whole.subarray(0, cut), whole.subarray(cut)]), `cut at ${cut}`).toEqual(ROWS);
    }
    expect(await read([...whole].map((b) => Uint8Array.of(b)))).toEqual(ROWS);
  });

  it('reads an empty file as no rows and a last row without its line break', async () => {
    expect(await read([])).toEqual([]);
    expect(await read([bytes('"person_id"\n"a"')])).toEqual([['person_id'], ['a']]);
  });

  it('refuses a file that ends inside a quoted value or has text after one', async () => {
    await expect(read([bytes('"person_id"\n"unterminated\n')])).rejects.toBeInstanceOf(InvalidAthenaCsvError);
    await expect(read([bytes('"a"x\n')])).rejects.toThrow('unexpected "x" after a quoted value');
  });
});
