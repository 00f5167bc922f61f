import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// A light check of the default catalog's files; full validation belongs to the language tests.
const FOLDER = join(import.meta.dirname, '..', '..', 'definitions');
const REQUIRED = ['id', 'name', 'owner', 'purpose', 'tier', 'cadence', 'rule'];
const ALLOWED = new Set([...REQUIRED, 'quality', 'limitations', 'program', 'change_reason', 'deprecated']);
const TIERS = ['core', 'strategic', 'tactical', 'experimental'];
const CADENCES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly'];

interface CatalogFile {
  readonly file: string;
  readonly firstLine: string;
  readonly doc: Record<string, unknown>;
}

async function catalog(): Promise<CatalogFile[]> {
  const names = (await readdir(FOLDER)).filter((name) => name.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(async (file) => {
      const text = await readFile(join(FOLDER, file), 'utf8');
      return { file, firstLine: text.split('\n')[0] ?? '', doc: parse(text) as Record<string, unknown> };
    }),
  );
}

/** Every `cohort:` reference in a rule. */
function references(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(references);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === 'cohort' && typeof value === 'string' ? [value] : references(value)));
}

describe('default catalog files', () => {
  it('are at least 14 YAML files with the required keys, named by their id', async () => {
    const files = await catalog();
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const { file, firstLine, doc } of files) {
      expect(firstLine, file).toBe('# yaml-language-server: $schema=./schema.json');
      for (const key of REQUIRED) expect(doc[key], `${file}: ${key}`).toBeDefined();
      for (const key of Object.keys(doc)) expect(ALLOWED.has(key), `${file}: unknown key ${key}`).toBe(true);
      expect(basename(file, '.yaml')).toBe(doc.id);
      expect(TIERS).toContain(doc.tier);
      expect(CADENCES).toContain(doc.cadence);
    }
  });

  it('uses every tier and cadence, and references only cohorts of the catalog', async () => {
    const files = await catalog();
    const ids = new Set(files.map(({ doc }) => doc.id));
    expect(new Set(files.map(({ doc }) => doc.tier))).toEqual(new Set(TIERS));
    expect(new Set(files.map(({ doc }) => doc.cadence))).toEqual(new Set(CADENCES));
    for (const { file, doc } of files) {
      for (const id of references(doc.rule)) expect(ids.has(id), `${file} references ${id}`).toBe(true);
    }
    expect(files.some(({ doc }) => doc.program !== undefined)).toBe(true);
  });
});
