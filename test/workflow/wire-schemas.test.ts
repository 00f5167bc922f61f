import { describe, expect, it } from 'vitest';
import { deliverySchema, outcomeSchema, workflowPlanSchema } from '../../shared/workflow/events.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { givenLake, givenWorld, portsOf } from './support.ts';

/** A cohort that fills the optional parts of what crosses Step Functions: quality, program, arms, arm exports. */
const EXPERIMENT =
  `${header('login_trial')}rule:\n  event: login\n  within: 90d\n` +
  'quality:\n  max_churn_pct: 90\n  kpis:\n    min_size: 1\n    value_change: {warn: 10, fail: 20}\n' +
  'program:\n  hypothesis: a nudge brings people back\n  experiment: trial-nudge\n  holdout: 20%\n  salt: trial-salt\n';

describe('the wire schemas of the refresh', () => {
  it('keep every field the steps produce: the plan, each outcome and each delivery parse to themselves', async () => {
    // Prepare: the tiny lake with one experiment cohort more
    const folders = await givenLake();
    await writeDefinitions(folders.definitions, { 'login_trial.yaml': EXPERIMENT });
    const world = await givenWorld(folders);
    const filled = { arms: false, armExports: false };

    for (const asOf of ['2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z', '2024-06-06T00:00:00Z']) {
      // Act: a first run, an unchanged one and a later one (previous versions, entered and exited)
      const { plan, summary } = await runRefreshSteps({ as_of: asOf }, portsOf(world));

      // Assert: a schema that dropped or refused a field the producer writes fails here
      expect(workflowPlanSchema.parse(plan)).toStrictEqual(plan);
      expect(plan.cohorts.find((c) => c.id === 'login_trial')?.definition.program?.holdout).toBe('20%');
      expect(plan.metrics.settings.activation.window?.kind).toBe('within');
      for (const outcome of summary.cohorts) expect(outcomeSchema.parse(outcome)).toStrictEqual(outcome);
      for (const delivery of summary.deliveries) expect(deliverySchema.parse(delivery)).toStrictEqual(delivery);
      filled.arms ||= summary.cohorts.some((c) => c.arms !== undefined);
      filled.armExports ||= summary.deliveries.some((d) => d.exports?.holdout_csv !== undefined);
    }
    expect(filled).toEqual({ arms: true, armExports: true });
  });
});
