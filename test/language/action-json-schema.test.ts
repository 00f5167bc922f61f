import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { actionJsonSchema, actionJsonSchemaText, definitionJsonSchema } from '../../shared/language/json-schema.ts';
import { allCaseDirs } from '../support/conformance.ts';

const ACTIONS = resolve(import.meta.dirname, '..', '..', 'definitions', 'actions');
const PAID = {
  id: 'paid',
  owner: 'billing',
  purpose: 'Charged checkouts.',
  event: 'checkout',
  source: 'billing',
  where: { amount: { gt: 0 } },
};

describe('the JSON Schema of a named action (definitions/actions/schema.json)', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(actionJsonSchema());
  const casesWithActions = allCaseDirs()
    .map((dir) => join(dir, 'definitions', 'actions'))
    .filter((dir) => existsSync(dir));

  it('is the file in definitions/actions/, regenerated from the zod schemas (run `npm run schema` after changing them)', () => {
    expect(readFileSync(join(ACTIONS, 'schema.json'), 'utf8')).toBe(actionJsonSchemaText());
  });

  it.each(casesWithActions.map((dir) => [basename(join(dir, '..', '..')), dir] as const))(
    'accepts every action of case %s',
    (_name, dir) => {
      const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files)
        expect(validate(parse(readFileSync(join(dir, file), 'utf8'))), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    },
  );

  it('refuses what an action may not hold: a window, a measure, no event, no owner', () => {
    expect(validate(PAID)).toBe(true);
    expect(validate({ ...PAID, within: '30d' })).toBe(false);
    expect(validate({ ...PAID, count: 2 })).toBe(false);
    const { event: _event, ...noEvent } = PAID;
    expect(validate(noEvent)).toBe(false);
    const { owner: _owner, ...noOwner } = PAID;
    expect(validate(noOwner)).toBe(false);
  });

  it('lets the definition schema take action in place of event and source, and refuse them together', () => {
    const definition = ajv.compile(definitionJsonSchema());
    const cohort = (rule: unknown) => ({ id: 'buyers', name: 'B', owner: 'o', purpose: 'p', cadence: 'daily', rule });
    expect(definition(cohort({ action: 'paid', where: { currency: 'EUR' }, within: '30d', count: 2 }))).toBe(true);
    expect(definition(cohort({ latest: { action: 'paid', property: 'plan' }, eq: 'pro' }))).toBe(true);
    expect(definition(cohort({ velocity: { action: 'paid', window: '7d' }, lt: 1 }))).toBe(true);
    expect(definition(cohort({ action: 'paid', event: 'checkout' }))).toBe(false);
    expect(definition(cohort({ velocity: { action: 'paid', source: 'crm', window: '7d' }, lt: 1 }))).toBe(false);
    expect(definition(cohort({ action: 'paid', within: '30d', before: '7d' }))).toBe(false);
  });
});
