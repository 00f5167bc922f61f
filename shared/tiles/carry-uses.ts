import type { CompileRequest } from '../compiler/compile-refresh.ts';
import { type CarryUse, carryKey } from './carry-sql.ts';
import { readsRaw, scanStart } from './measures.ts';
import { tileUses } from './tiled-parts.ts';
import { planTiled } from './tiled-plan.ts';
import { requestUses } from './tiled-refresh.ts';

/** The uses of a refresh that read tile days, of one kind of aggregate, each once (measure and whole days). */
function tileDayUses(request: CompileRequest, kind: 'count' | 'sum' | 'latest'): CarryUse[] {
  const uses = requestUses(request);
  const raw = new Set(uses.filter((u) => readsRaw(u.measure)).map((u) => u.measure.id));
  const { plan } = planTiled(uses, request.asOf.getTime(), raw, false, scanStart(uses));
  const found = tileUses(plan, false).filter((t) => t.kind === kind);
  const unique = new Map(found.map((t) => [carryKey(t), { measure: t.measure, first: t.first, end: t.end }]));
  return [...unique.values()];
}

/** The count uses of a refresh that read tile days (the uses whose per-key rows can be carried), each once. */
export const carryUses = (request: CompileRequest): CarryUse[] => tileDayUses(request, 'count');

/** The sum uses of a refresh that read tile days (whose tile days may hold a fractional value), each once. */
export const sumUses = (request: CompileRequest): CarryUse[] => tileDayUses(request, 'sum');

/** The all-history `latest` uses of a refresh that read tile days (no window, or `before`: their rows per key can be carried), each once. */
export const latestCarryUses = (request: CompileRequest): CarryUse[] =>
  tileDayUses(request, 'latest').filter((u) => u.first === '0000-01-01');
