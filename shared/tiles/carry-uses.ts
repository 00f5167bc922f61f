import type { CompileRequest } from '../compiler/compile-refresh.ts';
import { type CarryUse, carryKey } from './carry-sql.ts';
import { readsRaw, scanStart } from './measures.ts';
import { tileUses } from './tiled-parts.ts';
import { planTiled } from './tiled-plan.ts';
import { requestUses } from './tiled-refresh.ts';

/** The count uses of a refresh that read tile days (the uses whose per-key rows can be carried), each once. */
export function carryUses(request: CompileRequest): CarryUse[] {
  const uses = requestUses(request);
  const raw = new Set(uses.filter((u) => readsRaw(u.measure)).map((u) => u.measure.id));
  const { plan } = planTiled(uses, request.asOf.getTime(), raw, false, scanStart(uses));
  const counts = tileUses(plan, false).filter((t) => t.kind === 'count');
  const unique = new Map(counts.map((t) => [carryKey(t), { measure: t.measure, first: t.first, end: t.end }]));
  return [...unique.values()];
}
