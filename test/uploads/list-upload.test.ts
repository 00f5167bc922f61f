import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { header } from '../support/lake.ts';
import { givenUploadCatalog } from './upload-catalog.ts';

const VIPS = 'ann@example.com\nbob\n';
const CATALOG = {
  'vip_buyers.yaml': `${header('vip_buyers')}rule:\n  all:\n    - list: vips\n    - event: checkout\n`,
  'vip_fans.yaml': `${header('vip_fans')}rule:\n  cohort: vip_buyers\n`,
  'loggers.yaml': `${header('loggers')}rule:\n  event: login\n`,
};

const errorsOf = (outcome: unknown): readonly string[] => (outcome as { errors?: string[] }).errors ?? [];

/** The live catalog, with its lists/ folder. */
async function givenCatalog() {
  const given = await givenUploadCatalog(CATALOG, 'lists', { 'vips.csv': VIPS });
  return { ...given, list: (name = 'vips') => readFile(join(given.folder, 'lists', `${name}.csv`), 'utf8') };
}

describe('a list uploaded to incoming/lists/', () => {
  it('when valid, replaces the list and refreshes every cohort reading it and their dependants', async () => {
    const given = await givenCatalog();
    const changed = ' Ann@Example.COM \r\nbob\r\n\r\ncid\r\n';
    const outcome = await given.upload('lists/vips.csv', changed);
    expect(outcome).toEqual({
      status: 'accepted',
      cohort: null,
      promoted_to: join(given.folder, 'lists', 'vips.csv'),
      refresh: { cohorts: ['vip_buyers', 'vip_fans'], execution: 'execution:upload-event-1' },
    });
    expect(await given.list()).toBe(changed);
    expect(given.started).toEqual([{ trigger: 'list-change', cohorts: ['vip_buyers', 'vip_fans'], rationale: 'list "vips" changed' }]);
  });

  it('when invalid, is rejected at file:line as locally, and the previous list stays', async () => {
    const given = await givenCatalog();
    const outcome = await given.upload('lists/vips.csv', 'person_id\nann,Ann Smith\n"bob"\n');
    const file = join(given.folder, 'incoming', 'lists', 'vips.csv');
    expect(outcome).toMatchObject({ status: 'rejected', cohort: null });
    expect(errorsOf(outcome)).toEqual([
      `${file}:1:1: line is a header: a list has none, only one person_id per line`,
      `${file}:2:1: line holds a comma: a list has one person_id per line, written bare (no other columns, no quoting)`,
      `${file}:3:1: line holds a double quote: a list has one person_id per line, written bare (no other columns, no quoting)`,
      // With the list refused, the cohort reading it would read nothing.
      `${join(given.folder, 'vip_buyers.yaml')}:8:13: list "vips" does not exist: upload it as lists/vips.csv beside the definitions`,
    ]);
    expect(await given.list()).toBe(VIPS);
    expect(given.started).toEqual([]);
  });

  it('refuses a file whose name is no list name, and changes nothing', async () => {
    const given = await givenCatalog();
    const outcome = await given.upload('lists/VIPs.csv', 'ann\n');
    expect(errorsOf(outcome)).toEqual([
      `${join(given.folder, 'incoming', 'lists', 'VIPs.csv')}: a list file is named <name>.csv with the name matching ^[a-z][a-z0-9_]{2,62}$, got "VIPs.csv"`,
    ]);
    expect(given.started).toEqual([]);
  });

  it('starts no refresh for a list no cohort reads; a cohort upload is validated against the live lists', async () => {
    const given = await givenCatalog();
    const newcomers = `${header('newcomers')}rule:\n  list: beta_testers\n`;
    expect(errorsOf(await given.upload('newcomers.yaml', newcomers))).toEqual([
      `${join(given.folder, 'incoming', 'newcomers.yaml')}:7:9: list "beta_testers" does not exist: upload it as lists/beta_testers.csv beside the definitions`,
    ]);
    expect(await given.upload('lists/beta_testers.csv', 'dan\n')).toMatchObject({ status: 'accepted', cohort: null, refresh: null });
    expect(await given.list('beta_testers')).toBe('dan\n');
    expect(await given.upload('newcomers.yaml', newcomers)).toMatchObject({ status: 'accepted', cohort: 'newcomers' });
    expect(given.started.map((input) => input.cohorts)).toEqual([['newcomers']]);
  });

  it('is unchanged when the list holds the same bytes, starting nothing', async () => {
    const given = await givenCatalog();
    expect(await given.upload('lists/vips.csv', VIPS)).toEqual({
      status: 'unchanged',
      cohort: null,
      path: join(given.folder, 'lists', 'vips.csv'),
    });
    expect(given.started).toEqual([]);
  });
});
