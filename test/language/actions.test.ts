import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { actionsUsed } from '../../shared/language/resolve-actions.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { personalPropertyProblems } from '../../shared/privacy/personal-properties.ts';
import { header } from '../support/lake.ts';

const PAID = 'id: paid\nowner: billing\npurpose: Charged checkouts.\nevent: checkout\nsource: billing\nwhere:\n  amount: {gt: 0}\n';
const paid = (text = PAID, name = 'paid.yaml') => ({ path: `definitions/actions/${name}`, text });
const cohort = (rule: string, id = 'buyers') => ({ path: `definitions/${id}.yaml`, text: `${header(id)}rule:\n${rule}\n` });

/** The catalog's problems as `validate` prints them. */
const problems = (files: { path: string; text: string }[], actions = [paid()]) => buildCatalog(files, actions).problems.map(formatProblem);
const only = (files: { path: string; text: string }[], actions = [paid()]) => {
  const catalog = buildCatalog(files, actions);
  expect(catalog.problems.map(formatProblem)).toEqual([]);
  return catalog.definitions[0];
};

describe('named actions: resolved into the leaves that name them', () => {
  it('gives an event, latest, earliest or velocity leaf the action events, sources and where, its own where ANDed after them', () => {
    const event = only([cohort('  action: paid\n  where: {currency: EUR}\n  within: 30d\n  count: 2')]);
    expect(event?.rule).toEqual({
      kind: 'event',
      filter: {
        action: 'paid',
        events: ['checkout'],
        sources: ['billing'],
        where: [
          { property: 'amount', ops: { gt: 0 } },
          { property: 'currency', ops: { eq: 'EUR' } },
        ],
        window: { kind: 'within', duration: { text: '30d', ms: 30 * 86_400_000 } },
      },
      measure: { kind: 'count', bounds: { gte: 2 } },
    });
    const latest = only([cohort('  latest: {action: paid, property: plan}\n  eq: pro')]);
    expect(latest?.rule).toMatchObject({
      kind: 'latest',
      property: 'plan',
      filter: { action: 'paid', events: ['checkout'], sources: ['billing'] },
    });
    const earliest = only([cohort('  earliest: {action: paid, property: plan}\n  eq: pro')]);
    expect(earliest?.rule).toMatchObject({ kind: 'earliest', property: 'plan', filter: { action: 'paid', events: ['checkout'] } });
    const velocity = only([cohort('  velocity: {action: paid, window: 7d}\n  lt: 1')]);
    expect(velocity?.rule).toMatchObject({
      kind: 'velocity',
      filter: { action: 'paid', events: ['checkout'], where: [{ property: 'amount' }] },
    });
  });

  it('gives a sequence step the action, its own where ANDed, beside steps written out; the plan lists the action once', () => {
    const definition = only([
      cohort(
        '  sequence:\n    - {event: visit}\n    - {action: paid, where: {currency: EUR}}\n    - action: paid\n  max_gap: 1d\n  within: 30d',
      ),
    ]);
    const resolved = {
      action: 'paid',
      events: ['checkout'],
      sources: ['billing'],
      where: [{ property: 'amount', ops: { gt: 0 } }],
    };
    expect(definition?.rule).toMatchObject({
      kind: 'sequence',
      steps: [
        { events: ['visit'], where: [] },
        { ...resolved, where: [...resolved.where, { property: 'currency', ops: { eq: 'EUR' } }] },
        resolved,
      ],
      maxGap: { text: '1d' },
    });
    expect(actionsUsed(definition?.rule ?? { kind: 'all', items: [] })).toEqual(['paid']);
    const written = only([cohort('  sequence:\n    - {event: visit}\n    - {event: checkout, source: billing, where: {amount: {gt: 0}}}')]);
    expect(only([cohort('  sequence:\n    - {event: visit}\n    - {action: paid}')])?.hash).not.toBe(written?.hash);
    expect(
      only([cohort('  sequence:\n    - {event: visit}\n    - {action: paid}')], [paid(PAID.replace('gt: 0', 'gt: 9'))])?.hash,
    ).not.toBe(only([cohort('  sequence:\n    - {event: visit}\n    - {action: paid}')])?.hash);
  });

  it('gives a periods leaf the action, its count tested in each period', () => {
    const definition = only([
      cohort('  action: paid\n  where: {currency: EUR}\n  periods: {every: 1month, count: 3, at_least: 2}\n  count: {gte: 2}'),
    ]);
    expect(definition?.rule).toEqual({
      kind: 'periods',
      filter: {
        action: 'paid',
        events: ['checkout'],
        sources: ['billing'],
        where: [
          { property: 'amount', ops: { gt: 0 } },
          { property: 'currency', ops: { eq: 'EUR' } },
        ],
      },
      periods: { every: { text: '1month', months: 1 }, count: 3, at_least: 2 },
      bounds: { gte: 2 },
    });
  });

  it('hashes what the action means: its filter changes the hash of every cohort using it, its owner and purpose do not', () => {
    const rule = cohort('  action: paid\n  within: 30d');
    const hash = only([rule])?.hash;
    expect(only([rule], [paid(PAID.replace('gt: 0', 'gt: 10'))])?.hash).not.toBe(hash);
    expect(only([rule], [paid(PAID.replace('owner: billing', 'owner: finance').replace('Charged', 'Paid'))])?.hash).toBe(hash);
    expect(only([cohort('  event: checkout\n  source: billing\n  where: {amount: {gt: 0}}\n  within: 30d')])?.hash).not.toBe(hash);
  });

  it('lets no action compare a personal property: the cohorts using it are refused like any rule that does', () => {
    const catalog = buildCatalog([cohort('  action: paid')], [paid(PAID.replace('amount: {gt: 0}', 'email: {eq: ann@example.com}'))]);
    expect(personalPropertyProblems(catalog.definitions, ['email']).map((p) => p.file)).toEqual(['definitions/buyers.yaml']);
  });

  it('keeps the action files each definition uses, so an accepted version can be read again as it was', () => {
    const catalog = buildCatalog([cohort('  action: paid'), cohort('  event: login', 'loggers')], [paid()]);
    expect([...(catalog.actions ?? new Map())]).toEqual([['buyers', [paid()]]]);
    // A file bringing its own actions is read against those, not the catalog's.
    const pinned = buildCatalog([{ ...cohort('  action: paid'), actions: [paid(PAID.replace('gt: 0', 'gt: 10'))] }], [paid()]);
    expect(pinned.definitions[0]?.rule).toMatchObject({ filter: { where: [{ ops: { gt: 10 } }] } });
  });
});

describe('named actions: bad input, each at its path:line:col', () => {
  it('refuses an unknown action where it is named', () => {
    expect(problems([cohort('  all:\n    - action: pay\n    - latest: {action: plan, property: p}\n      eq: x')])).toEqual([
      'definitions/buyers.yaml:8:15: action "pay" does not exist: no valid file actions/pay.yaml (actions: paid)',
      'definitions/buyers.yaml:9:24: action "plan" does not exist: no valid file actions/plan.yaml (actions: paid)',
    ]);
  });

  it('refuses an action file whose id is not its base name, and the cohorts using it find no such action', () => {
    expect(problems([cohort('  action: paid')], [paid(PAID, 'paid_checkout.yaml')])).toEqual([
      `definitions/actions/paid_checkout.yaml:1:5: id "paid" must equal the file's base name "paid_checkout": rename the file or fix the id`,
      'definitions/buyers.yaml:7:11: action "paid" does not exist: no valid file actions/paid.yaml',
    ]);
  });

  it('refuses an action that is not an event filter: a window or measure, no event, an unknown key', () => {
    expect(problems([], [paid(`${PAID}within: 30d\n`)])).toEqual([
      'definitions/actions/paid.yaml:8:1: unknown key "within" (a typo is never ignored)',
    ]);
    expect(problems([], [paid(PAID.replace('event: checkout\n', ''))])).toEqual(['definitions/actions/paid.yaml:1:1: event is required']);
    expect(problems([], [paid(PAID.replace('gt: 0', 'gt: zero'))])).toEqual([
      'definitions/actions/paid.yaml:7:16: where.amount.gt must be a number, got "zero"',
    ]);
    expect(problems([], [paid('just text')])[0]).toContain('an action must be a YAML mapping');
  });

  it('refuses a leaf that names an action and also event or source', () => {
    expect(problems([cohort('  action: paid\n  event: checkout')])).toEqual([
      'definitions/buyers.yaml:8:3: event must not be given beside action: the action names the events and sources (a leaf adds conditions with where)',
    ]);
    expect(problems([cohort('  velocity: {action: paid, source: crm, window: 7d}\n  lt: 1')])).toEqual([
      'definitions/buyers.yaml:7:28: source must not be given beside action: the action names the events and sources (a leaf adds conditions with where)',
    ]);
  });

  it('refuses in a sequence step what it refuses in a leaf: an unknown action, event beside it, a property tested twice', () => {
    expect(
      problems([
        cohort(
          '  sequence:\n    - {action: pay}\n    - action: paid\n      event: checkout\n    - {action: paid, where: {amount: {lt: 9}}}',
        ),
      ]),
    ).toEqual([
      'definitions/buyers.yaml:8:16: action "pay" does not exist: no valid file actions/pay.yaml (actions: paid)',
      'definitions/buyers.yaml:10:7: event must not be given beside action: the action names the events and sources (a leaf adds conditions with where)',
      'definitions/buyers.yaml:11:30: action "paid" already tests "amount" (definitions/actions/paid.yaml): test a property once, in the action or in the leaf',
    ]);
  });

  it('refuses periods beside a window or a sum on an action leaf, as on an event leaf', () => {
    expect(problems([cohort('  action: paid\n  within: 30d\n  periods: {every: 7d, count: 2, at_least: 1}')])).toEqual([
      'definitions/buyers.yaml:9:12: rule.periods stand in place of the window: leave out within, before and between',
    ]);
    expect(problems([cohort('  action: paid\n  sum: {gte: 1}\n  periods: {every: 7d, count: 2, at_least: 1}')])).toEqual([
      'definitions/buyers.yaml:9:12: rule.periods test a count: use count (or no measure), not sum or distinct',
    ]);
  });

  it('names action among the forms when a condition is none of them', () => {
    expect(problems([cohort('  acton: paid')])[0]).toContain(
      'must be one condition (all, any, not, cohort, list, action, event, latest, earliest, velocity or sequence)',
    );
  });

  it("refuses a leaf where on a property the action already tests, at the property's key", () => {
    expect(problems([cohort('  action: paid\n  where:\n    amount: {lt: 100}')])).toEqual([
      'definitions/buyers.yaml:9:5: action "paid" already tests "amount" (definitions/actions/paid.yaml): test a property once, in the action or in the leaf',
    ]);
  });
});
