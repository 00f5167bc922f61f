import type { CohortDefinition } from '../language/ast.ts';
import { none } from './badges.ts';
import { formatNumber } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { ruleText } from './rule-text.ts';

/** One `<dt>`/`<dd>` pair; `field` names the `<dd>` for tests and scripts. */
export function field(label: string, key: string, value: SafeHtml | string): SafeHtml {
  return html`<dt>${label}</dt><dd data-field="${key}">${value}</dd>`;
}

/** The rule as YAML text in a `<pre>`. */
export function ruleBlock(definition: CohortDefinition): SafeHtml {
  return html`<pre class="rule" aria-label="Rule of ${definition.name}"><code>${ruleText(definition.rule)}</code></pre>`;
}

/** The `program` block: hypothesis, experiment and outcome metric, or a note that there is none. */
export function programFields(definition: CohortDefinition): SafeHtml {
  const program = definition.program;
  if (!program || (program.hypothesis ?? program.experiment ?? program.outcome_metric) === undefined) {
    return field('Program', 'program', none('No program recorded'));
  }
  return html`${field('Hypothesis', 'hypothesis', program.hypothesis ?? none('not stated'))}${field(
    'Experiment',
    'experiment',
    program.experiment ?? none('none'),
  )}${field('Outcome metric', 'outcome-metric', program.outcome_metric ?? none('not stated'))}${
    program.holdout
      ? field('Holdout', 'holdout', `${program.holdout} of members, by sha256(salt + person_id), salt "${program.salt ?? ''}"`)
      : ''
  }`;
}

/** `activation_change warn 5 / fail 20; min_size 50`: the KPI levels a definition sets. */
function kpiLevelsText(kpis: NonNullable<NonNullable<CohortDefinition['quality']>['kpis']>): string {
  const levels = (name: string, l: { warn?: number; fail?: number } | undefined) =>
    l
      ? `${name} ${[l.warn !== undefined ? `warn ${l.warn}` : '', l.fail !== undefined ? `fail ${l.fail}` : ''].filter(Boolean).join(' / ')}`
      : '';
  return [
    levels('activation_change', kpis.activation_change),
    levels('value_change', kpis.value_change),
    levels('history_z', kpis.history_z),
    kpis.min_size !== undefined ? `min_size ${kpis.min_size}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Declared quality thresholds, or a note that only the default checks apply. */
export function qualityText(definition: CohortDefinition): SafeHtml | string {
  const q = definition.quality;
  const parts = [
    q?.min_size !== undefined ? `at least ${formatNumber(q.min_size)} members` : undefined,
    q?.max_size !== undefined ? `at most ${formatNumber(q.max_size)} members` : undefined,
    q?.max_change_pct !== undefined ? `size change at most ${q.max_change_pct}% per version` : undefined,
    q?.kpis ? `KPI shift levels: ${kpiLevelsText(q.kpis)}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join('; ') : none('default checks only');
}

/** Deprecation reason and replacement, when the cohort is retired. */
export function deprecationText(definition: CohortDefinition, link: (id: string) => SafeHtml): SafeHtml | undefined {
  const retired = definition.deprecated;
  if (!retired) return undefined;
  return html`${retired.reason}${retired.replaced_by ? html` Replaced by ${link(retired.replaced_by)}.` : ''}`;
}
