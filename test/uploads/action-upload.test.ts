import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { header } from '../support/lake.ts';
import { givenUploadCatalog } from './upload-catalog.ts';

const PAID = 'id: paid\nowner: billing\npurpose: Charged checkouts.\nevent: checkout\nsource: billing\n';
const CATALOG = {
  'buyers.yaml': `${header('buyers')}rule:\n  action: paid\n  within: 30d\n`,
  'fans.yaml': `${header('fans')}rule:\n  cohort: buyers\n`,
  'loggers.yaml': `${header('loggers')}rule:\n  event: login\n`,
  // An action used only by a sequence step, and only beside periods (issue 16: any leaf).
  'funnel.yaml': `${header('funnel')}rule:\n  sequence:\n    - {event: login}\n    - {action: paid}\n  max_gap: 1d\n`,
  'regulars.yaml': `${header('regulars')}rule:\n  action: paid\n  periods: {every: 1month, count: 3, at_least: 2}\n`,
};

const errorsOf = (outcome: unknown): readonly string[] => (outcome as { errors?: string[] }).errors ?? [];

/** The live catalog, with its actions/ folder. */
async function givenCatalog() {
  const given = await givenUploadCatalog(CATALOG, 'actions', { 'paid.yaml': PAID });
  return { ...given, action: () => readFile(join(given.folder, 'actions', 'paid.yaml'), 'utf8') };
}

describe('a named action uploaded to incoming/actions/', () => {
  it('when valid, replaces the action and refreshes every cohort using it and their dependants', async () => {
    const given = await givenCatalog();
    const changed = PAID.replace('source: billing', 'source: [billing, shop]');
    const outcome = await given.upload('actions/paid.yaml', changed);
    expect(outcome).toEqual({
      status: 'accepted',
      cohort: null,
      promoted_to: join(given.folder, 'actions', 'paid.yaml'),
      refresh: { cohorts: ['buyers', 'funnel', 'regulars', 'fans'], execution: 'execution:upload-event-1' },
    });
    expect(await given.action()).toBe(changed);
    expect(given.started).toEqual([
      { trigger: 'definition-change', cohorts: ['buyers', 'funnel', 'regulars', 'fans'], rationale: 'action "paid" changed' },
    ]);
  });

  it('when invalid, is rejected with its path:line:col and changes nothing', async () => {
    const given = await givenCatalog();
    const outcome = await given.upload('actions/paid.yaml', `${PAID}within: 30d\n`);
    expect(outcome).toMatchObject({ status: 'rejected', cohort: null });
    expect(errorsOf(outcome)).toContain(
      `${join(given.folder, 'incoming', 'actions', 'paid.yaml')}:6:1: unknown key "within" (a typo is never ignored)`,
    );
    expect(errorsOf(outcome)).toContain(
      `${join(given.folder, 'buyers.yaml')}:7:11: action "paid" does not exist: no valid file actions/paid.yaml`,
    );
    expect(await given.action()).toBe(PAID);
    expect(given.started).toEqual([]);
  });

  it('starts no refresh for an action no cohort uses, and a cohort upload is validated against the live actions', async () => {
    const given = await givenCatalog();
    const signup = 'id: signed_up\nowner: growth\npurpose: Sign-ups.\nevent: signup\n';
    expect(await given.upload('actions/signed_up.yaml', signup)).toMatchObject({ status: 'accepted', refresh: null });
    const newcomers = `${header('newcomers')}rule:\n  action: signed_up\n  within: 7d\n`;
    expect(await given.upload('newcomers.yaml', newcomers)).toMatchObject({ status: 'accepted', cohort: 'newcomers' });
    const unknown = `${header('strangers')}rule:\n  action: unknown_action\n`;
    expect(await given.upload('strangers.yaml', unknown)).toMatchObject({
      status: 'rejected',
      errors: [expect.stringContaining('strangers.yaml:7:11: action "unknown_action" does not exist')],
    });
  });
});
