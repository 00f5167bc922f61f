import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CohortEvent } from '../../shared/deliver/events.ts';
import { BlobExports } from '../../shared/deliver/exports.ts';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import { deliverStep } from '../../shared/workflow/deliver-step.ts';
import { forgetPerson } from '../../shared/privacy/erase.ts';
import { exportScreen } from '../../shared/privacy/export-screen.ts';
import { csvPersonIds, dropPersonRows } from '../../shared/privacy/person-csv.ts';
import { withPrivacyFindings } from '../../shared/privacy/privacy-alert.ts';
import { privacyCheck, type PrivacyReport } from '../../shared/privacy/privacy-check.ts';
import { parseSuppressionList } from '../../shared/privacy/suppression.ts';
import { privacyWorld } from './support.ts';
import type { Alert } from '../../shared/ports.ts';

describe('exports with the privacy screen', () => {
  it('never write a person suppressed or forgotten after their version was written', async () => {
    // GIVEN versions written before ann opted out and bob was forgotten (versions hold ann)
    const world = await privacyWorld();
    const summary = await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put('privacy/suppressed.txt', 'ann\n');
    await forgetPerson('bob', world.privacy, 'cli');
    const outcome = summary.cohorts.find((c) => c.cohort === 'all_users') as CohortOutcome;
    const events: CohortEvent[] = [];

    // WHEN Deliver exports the version
    const delivery = await deliverStep(
      { outcome, run_id: summary.run_id },
      {
        store: world.store,
        exports: new BlobExports(world.blobs, world.engine),
        events: { publish: async (e) => void events.push(...e) },
        privacy: world.privacy,
      },
    );

    // THEN no list holds either of them, and latest.json counts what was written
    expect(await readFile(delivery.exports?.members_csv as string, 'utf8')).toBe('person_id\ncid\ndora@example.com\n');
    expect(await world.engine.decode(new Uint8Array(await readFile(delivery.exports?.entered_parquet as string)))).toEqual([
      'cid',
      'dora@example.com',
    ]);
    expect(JSON.parse(await readFile(delivery.exports?.latest as string, 'utf8'))).toMatchObject({ size: 2, entered: 2, exited: 0 });
    // ...and no per-member event names them either
    expect(events.filter((e) => e.detailType === 'Cohort Entered').map((e) => e.detail.person_id)).toEqual(['cid', 'dora@example.com']);
    expect(await exportScreen(world.privacy)({ members: ['cid'], entered: [], exited: [] })).toEqual({
      members: ['cid'],
      entered: [],
      exited: [],
    });
  });

  it('are rewritten by a later erasure, latest.json counts included', async () => {
    const world = await privacyWorld();
    const summary = await world.run('2024-06-01T00:00:00Z');
    const outcome = summary.cohorts.find((c) => c.cohort === 'active_users') as CohortOutcome;
    const exports = new BlobExports(world.blobs, world.engine);
    const delivery = await deliverStep(
      { outcome, run_id: summary.run_id },
      { store: world.store, exports, events: { publish: async () => {} } },
    );
    await forgetPerson('bob', world.privacy, 'cli');
    expect(await readFile(delivery.exports?.entered_csv as string, 'utf8')).toBe('person_id\nann\ndora@example.com\n');
    expect(await world.engine.decode(new Uint8Array(await readFile(delivery.exports?.members_parquet as string)))).toEqual([
      'ann',
      'dora@example.com',
    ]);
    expect(JSON.parse(await readFile(delivery.exports?.latest as string, 'utf8'))).toMatchObject({
      version: 1,
      size: 2,
      entered: 2,
      exited: 0,
    });
    expect((await privacyCheck(world.privacy)).findings).toEqual([]);
  });
});

describe('CSV rows of a person', () => {
  it('are dropped with every other byte kept as written, quoted fields and CRLF included', () => {
    const csv = 'arm,person_id\r\ntreatment,"bob"\r\n"hold, out",ann\r\ncontrol,"b""ob"\r\n';
    expect(dropPersonRows(csv, (id) => id === 'bob')).toEqual({
      text: 'arm,person_id\r\n"hold, out",ann\r\ncontrol,"b""ob"\r\n',
      removed: 1,
      kept: 2,
    });
    expect(csvPersonIds(csv)).toEqual(['bob', 'ann', 'b"ob']);
  });

  it('are left alone in a CSV without a person_id column', () => {
    expect(dropPersonRows('email\nbob@example.com\n', () => true)).toBeUndefined();
  });
});

describe('the suppression list format', () => {
  it('skips comments, blanks and the header, and counts e-mail ids in their normalized form too', () => {
    expect([...parseSuppressionList('person_id\n# opt-outs\n\n  Ann@Example.com \nu-1\n')]).toEqual([
      'Ann@Example.com',
      'ann@example.com',
      'u-1',
    ]);
  });
});

describe('the privacy findings in the run alert', () => {
  const run = { run_id: 'r1', as_of: '2024-06-01T00:00:00.000Z' };
  const report = (kinds: PrivacyReport['findings'][number]['kind'][]): PrivacyReport => ({
    versions: 4,
    exports: 2,
    files: 0,
    findings: kinds.map((kind) => ({ kind, location: '/state/x.csv', count: 1, message: `/state/x.csv holds a ${kind} thing` })),
  });
  const info: Alert = { severity: 'info', title: 'cohort refresh: 1 moved', body: 'Moved: a', cohorts: ['a'], run_id: 'r1' };

  it('leaves the alert as it was when nothing was found', () => {
    expect(withPrivacyFindings(info, report([]), run)).toBe(info);
    expect(withPrivacyFindings(undefined, report([]), run)).toBeUndefined();
  });

  it('raises a fail for a forgotten person or a personal property and a warn for a suppressed one', () => {
    expect(withPrivacyFindings(info, report(['suppressed']), run)?.severity).toBe('warn');
    const failed = withPrivacyFindings(info, report(['suppressed', 'forgotten']), run);
    expect(failed).toMatchObject({ severity: 'fail', title: 'cohort refresh: 1 moved; privacy check: 2 findings', cohorts: ['a'] });
    expect(failed?.body).toContain('Privacy check (4 versions, 2 export files):\n  suppressed: /state/x.csv holds a suppressed thing');
    expect(withPrivacyFindings(undefined, report(['personal_property']), run)).toMatchObject({ severity: 'fail', run_id: 'r1' });
  });
});
