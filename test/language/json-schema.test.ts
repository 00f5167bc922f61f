import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { definitionJsonSchema, definitionJsonSchemaText } from '../../shared/language/json-schema.ts';
import { allCaseDirs, CONFORMANCE_ROOT } from '../support/conformance.ts';

const CATALOG = resolve(import.meta.dirname, '..', '..', 'definitions');
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

describe('the JSON Schema of the definition language', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(definitionJsonSchema());

  it('is the file in definitions/, regenerated from the zod schemas (run `npm run schema` after changing them)', () => {
    expect(readFileSync(join(CATALOG, 'schema.json'), 'utf8')).toBe(definitionJsonSchemaText());
  });

  it.each(allCaseDirs().map((dir) => [basename(dir), dir] as const))(
    'accepts every definition of conformance case %s',
    (_name, caseDir) => {
      const dir = join(caseDir, 'definitions');
      for (const file of yamlFiles(dir)) {
        const ok = validate(parse(readFileSync(join(dir, file), 'utf8')));
        expect(ok, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    },
  );

  it.each([
    'bad_cadence',
    'bad_operator',
    'unknown_rule_key',
    'unknown_top_key',
    'missing_owner',
    'empty_all',
    'two_measures',
    'negative_count_bound',
    'property_name_quote',
  ])('rejects the invalid definition of %s, so editors flag it as the analyst types', (name) => {
    const dir = join(CONFORMANCE_ROOT, 'invalid', name, 'definitions');
    const [file] = yamlFiles(dir);
    expect(validate(parse(readFileSync(join(dir, file as string), 'utf8')))).toBe(false);
  });

  it('is referenced by the first line of every catalog definition', () => {
    const files = yamlFiles(CATALOG);
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const file of files) {
      expect(readFileSync(join(CATALOG, file), 'utf8').split('\n')[0], file).toBe('# yaml-language-server: $schema=./schema.json');
    }
  });
});
