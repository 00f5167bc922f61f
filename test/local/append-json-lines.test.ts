import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendJsonLines, readJsonLines } from '../../shared/local/append-json-lines.ts';
import { FileWriteError } from '../../shared/local/file-error.ts';

/** What the next append does instead of appending: writes these bytes (ours, or another writer's), then fails as a full disk. */
const fault = vi.hoisted(() => ({ next: undefined as undefined | ((file: string, text: string) => string) }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const appendFile: typeof fs.appendFile = async (file, data, options) => {
    const partial = fault.next;
    if (partial === undefined) return fs.appendFile(file, data, options);
    fault.next = undefined;
    await fs.appendFile(file, partial(String(file), String(data)));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return { ...fs, appendFile, default: { ...fs, appendFile } };
});

afterEach(() => {
  fault.next = undefined;
});

const file = async () => join(await mkdtemp(join(tmpdir(), 'append-json-lines-')), 'alerts.jsonl');

describe('a JSON-lines append cut short by a full disk (D10)', () => {
  it('takes back the part of its line it wrote: the file is as before, and the next append follows it', async () => {
    const path = await file();
    await appendJsonLines(path, [{ title: 'first' }]);
    const before = await readFile(path, 'utf8');
    fault.next = (_file, text) => text.slice(0, 9);
    const failed = await appendJsonLines(path, [{ title: 'cut short', level: 'error' }]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(FileWriteError);
    expect((failed as FileWriteError).message).toContain('free space under');
    expect(await readFile(path, 'utf8')).toBe(before);
    await appendJsonLines(path, [{ title: 'next' }]);
    expect(await readJsonLines(path)).toEqual({ records: [{ title: 'first' }, { title: 'next' }], torn: [] });
  });

  it('takes back its part after a line it ended first (a file torn by a crash)', async () => {
    const path = await file();
    await writeFile(path, '{"title":"first"}\n{"title":"cra');
    fault.next = (_file, text) => text.slice(0, 5);
    await expect(appendJsonLines(path, [{ title: 'cut short' }])).rejects.toBeInstanceOf(FileWriteError);
    expect(await readFile(path, 'utf8')).toBe('{"title":"first"}\n{"title":"cra');
  });

  it('leaves bytes that are not its own: another writer appended before the failure', async () => {
    const path = await file();
    await appendJsonLines(path, [{ title: 'first' }]);
    fault.next = () => '{"title":"other"}\n{"ti';
    await expect(appendJsonLines(path, [{ title: 'cut short' }])).rejects.toBeInstanceOf(FileWriteError);
    expect(await readFile(path, 'utf8')).toBe('{"title":"first"}\n{"title":"other"}\n{"ti');
  });
});
