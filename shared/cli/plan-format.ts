import pc from 'picocolors';
import type { CohortChange } from '../governance/compare.ts';
import { type DecisionInstructions, decisionCommand } from '../governance/decision-command.ts';
import type { CohortGovernance, Governance } from '../governance/govern.ts';
import { sizeChangePct } from '../governance/guardrails.ts';
import type { MemberImpact } from '../governance/impact.ts';
import { lineDiff } from '../governance/line-diff.ts';
import { canonicalJson } from '../language/canonical.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { ruleText } from '../report/rule-text.ts';

const SIGN = { added: pc.green('+'), changed: pc.yellow('~'), deprecated: pc.magenta('!'), removed: pc.red('-'), unchanged: ' ' } as const;

function pct(impact: MemberImpact): string {
  const value = sizeChangePct(impact);
  if (!Number.isFinite(value)) return 'from none';
  return `${value >= 0 ? '+' : ''}${Math.round(value * 10) / 10}%`;
}

/** `120 -> 180 members (+70 -10, +50%)` on the current data. */
export function impactText(impact: MemberImpact): string {
  if (impact.before === null) return `${impact.after} members`;
  return `${impact.before} -> ${impact.after} members (+${impact.added} -${impact.removed}, ${pct(impact)})`;
}

function verdictText(change: CohortGovernance): string {
  if (change.verdict === 'refused') return pc.red(pc.bold('refused'));
  if (change.verdict === 'pending') return pc.yellow(pc.bold('needs approval'));
  return change.needs_approval ? pc.green('approved') : pc.green('ok');
}

function valueText(definition: CohortDefinition | undefined, field: string): string {
  const value = definition?.[field as keyof CohortDefinition];
  if (value === undefined) return 'none';
  return typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value);
}

/** The rule as a line diff, then every other changed key as `key: old -> new`. */
function fieldLines(change: CohortChange): string[] {
  const lines: string[] = [];
  for (const field of change.fields) {
    if (field === 'rule' && change.before && change.after) {
      lines.push('rule:');
      for (const line of lineDiff(ruleText(change.before.rule).split('\n'), ruleText(change.after.rule).split('\n'))) {
        const text = `  ${line.op} ${line.text}`;
        lines.push(line.op === '+' ? pc.green(text) : line.op === '-' ? pc.red(text) : pc.dim(text));
      }
    } else {
      lines.push(`${field}: ${valueText(change.before, field)} -> ${valueText(change.after, field)}`);
    }
  }
  return lines;
}

function header(change: CohortGovernance, detail: CohortChange | undefined): string {
  const definition = detail?.after ?? detail?.before;
  const facts = [definition?.tier, change.kind === 'changed' ? `changed: ${change.fields.join(', ')}` : change.kind]
    .filter(Boolean)
    .join(', ');
  return `${SIGN[change.kind]} ${pc.bold(change.cohort)} (${facts})  ${verdictText(change)}`;
}

/**
 * `cohorts plan` as text, like a terraform plan: one block per added, changed, deprecated and
 * removed cohort (rule diff, members added and removed on the current data, dependants and their
 * movement, the guardrails' verdict), then a summary line.
 */
export function formatPlan(
  governance: Governance,
  context: { readonly asOf: string; readonly publishedCount: number; readonly decisions?: DecisionInstructions },
): string {
  const byId = new Map(governance.changes.map((c) => [c.cohort, c]));
  const shown = governance.changes.filter((c) => c.kind !== 'unchanged');
  const blocks: string[] = [];
  if (context.publishedCount === 0)
    blocks.push(pc.dim('No published catalog yet: every definition is new; the next refresh accepts them.'));
  for (const change of shown) {
    const detail = governance.details.get(change.cohort);
    const lines: string[] = [];
    if (change.kind === 'changed') lines.push(...fieldLines(detail as CohortChange));
    if (change.kind === 'deprecated' && detail?.after?.deprecated) {
      const { reason, replaced_by } = detail.after.deprecated;
      lines.push(`retired: ${reason}${replaced_by ? `; replaced by ${replaced_by}` : ''}`);
    }
    if (change.impact) lines.push(`members on the current data: ${impactText(change.impact)}`);
    if (change.dependants.length > 0) {
      lines.push(
        `dependants: ${change.dependants
          .map((id) => {
            const impact = byId.get(id)?.impact;
            return impact ? `${id} (${impactText(impact)})` : id;
          })
          .join(', ')}`,
      );
    }
    for (const reason of change.reasons)
      lines.push(
        `${change.verdict === 'refused' ? pc.red('refused:') : change.verdict === 'pending' ? pc.yellow('waits:') : 'note:'} ${reason}`,
      );
    if (change.verdict === 'pending')
      lines.push(`approve with: ${decisionCommand('approve', change.cohort, change.hash, context.decisions)}`);
    blocks.push([header(change, detail), ...lines.map((line) => `    ${line}`)].join('\n'));
  }
  const count = (kind: CohortGovernance['kind']) => shown.filter((c) => c.kind === kind).length;
  const refused = shown.filter((c) => c.verdict === 'refused').length;
  const pending = shown.filter((c) => c.verdict === 'pending').length;
  const summary =
    shown.length === 0
      ? `No changes: the definitions are the published ones (as of ${context.asOf}).`
      : `Plan: ${count('added')} to add, ${count('changed')} to change, ${count('deprecated')} to deprecate, ${count('removed')} to remove; ` +
        `${refused} refused, ${pending} waiting for approval (members as of ${context.asOf}).`;
  return [...blocks, ...(blocks.length > 0 ? [''] : []), refused > 0 ? pc.red(summary) : pending > 0 ? pc.yellow(summary) : summary].join(
    '\n',
  );
}
