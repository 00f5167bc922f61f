import { partitionDate } from '../compiler/partition-date.ts';
import { DAY_MS, type DaySplit, dayOf, splitWindow } from './day-split.ts';
import { type InstantRange, type MeasureUse, scanStart, type TileMeasure } from './measures.ts';
import { type SequenceUse, sequenceKey } from './sequence-uses.ts';

/** One window of one measure in the tiled query, numbered for the SQL (`use_no`). */
export interface PlannedUse {
  readonly no: number;
  readonly measure: TileMeasure;
  readonly range: InstantRange;
  /** Read from raw events over its whole window (a sum tiles cannot hold exactly, a sequence's step), never from tiles. */
  readonly raw: boolean;
  /** A sequence's step: its raw rows are read by the sequence, never added up as parts of their own. */
  readonly step?: true;
  /** Its whole days (tiles) and partial days (raw), when it reads tiles. */
  readonly split: DaySplit;
}

/** A sequence in the tiled plan: its use number (after every measure's) and its steps' planned uses. */
export interface PlannedSequence {
  readonly no: number;
  readonly id: string;
  readonly steps: readonly PlannedUse[];
  readonly maxGapMs?: number;
}

/** What the tiled query reads: tiles of whole days per use, raw events of the instants in `rawRanges`. */
export interface TiledPlan {
  readonly asOf: number;
  /** Midnight of T's day: the population reads raw events from it (when T is not midnight itself). */
  readonly todayStart: number;
  readonly uses: readonly PlannedUse[];
  /** The sequences, computed from their steps' raw rows (numbered after the uses). */
  readonly sequences: readonly PlannedSequence[];
  /** The full computation's scan start (its de-duplication chooses among the copies of `[scanStart, T)`). */
  readonly scanStart?: number;
  /**
   * The instants read raw from the lake, sorted and disjoint: whole UTC days (clipped to the scan
   * and to T) around every partial-day segment and raw window, and T's own day for the population.
   */
  readonly rawRanges: readonly InstantRange[];
  /**
   * The part of `rawRanges` every use may read (partial days and T's day); the rest is read only
   * by the measures read raw over their whole window.
   */
  readonly edgeRanges: readonly InstantRange[];
  /** Where the contested copies are read: the scan and T's day. */
  readonly contestedRange: InstantRange;
  /** Whether T's day is read raw for the population. */
  readonly presenceToday: boolean;
}

const floorDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const ceilDay = (ms: number) => Math.ceil(ms / DAY_MS) * DAY_MS;

/** The key of a use read raw on its own (a measure over one window), as `rawMeasures` may name it beside measure ids. */
export const rawUseKey = (use: MeasureUse) => `${use.measure.id}|${use.range.from ?? ''}|${use.range.to}`;

/** The key of a use: the same measure over the same window is read once. */
const useKey = (use: MeasureUse) => `${rawUseKey(use)}${use.step ? '|step' : ''}`;

/**
 * Numbers the uses (first seen first) and finds the raw ranges they and the population need.
 * `rawMeasures`: measure ids read raw over every window, and {@link rawUseKey}s read raw over that window only.
 */
export function planTiled(
  uses: readonly MeasureUse[],
  asOf: number,
  rawMeasures: ReadonlySet<string>,
  presence: boolean,
  scan: number | undefined = scanStart(uses),
  sequences: readonly SequenceUse[] = [],
): { plan: TiledPlan; useOf: (use: MeasureUse) => PlannedUse; sequenceOf: (sequence: SequenceUse) => PlannedSequence } {
  const byKey = new Map<string, PlannedUse>();
  for (const use of uses) {
    const key = useKey(use);
    if (byKey.has(key)) continue;
    const raw = rawMeasures.has(use.measure.id) || rawMeasures.has(rawUseKey(use)) || use.step === true;
    const split = raw ? { segments: [] } : splitWindow(use.range);
    byKey.set(key, { no: byKey.size, measure: use.measure, range: use.range, raw, split, ...(use.step ? { step: true } : {}) });
  }
  const planned = [...byKey.values()];
  const useOf = (use: MeasureUse) => byKey.get(useKey(use)) as PlannedUse;
  const unique = [...new Map(sequences.map((s) => [sequenceKey(s), s])).values()];
  const sequenceNos = new Map(unique.map((s, i) => [sequenceKey(s), planned.length + i]));
  const plannedSequences = unique.map(
    (s): PlannedSequence => ({
      no: sequenceNos.get(sequenceKey(s)) as number,
      id: s.id,
      steps: s.steps.map(useOf),
      ...(s.maxGapMs === undefined ? {} : { maxGapMs: s.maxGapMs }),
    }),
  );
  const todayStart = floorDay(asOf);
  const presenceToday = presence && todayStart < asOf;
  const clip = (range: InstantRange): InstantRange | undefined => {
    const from = scan === undefined ? range.from : Math.max(range.from ?? scan, scan);
    const to = Math.min(range.to, asOf);
    return from !== undefined && from >= to ? undefined : { ...(from === undefined ? {} : { from }), to };
  };
  const edges: InstantRange[] = presenceToday ? [{ from: todayStart, to: asOf }] : [];
  const wholes: InstantRange[] = [];
  for (const use of planned) {
    if (use.raw) {
      const empty = use.range.from !== undefined && use.range.from >= use.range.to;
      const whole = clip({ ...(use.range.from === undefined ? {} : { from: floorDay(use.range.from) }), to: ceilDay(use.range.to) });
      if (whole && !empty) wholes.push(whole);
      continue;
    }
    for (const segment of use.split.segments) {
      const day = clip({ from: floorDay(segment.from), to: floorDay(segment.from) + DAY_MS });
      if (day) edges.push(day);
    }
  }
  const contestedFrom = scan === undefined ? undefined : presenceToday ? Math.min(scan, todayStart) : scan;
  const plan: TiledPlan = {
    asOf,
    todayStart,
    uses: planned,
    sequences: plannedSequences,
    ...(scan === undefined ? {} : { scanStart: scan }),
    rawRanges: mergeRanges([...edges, ...wholes]),
    edgeRanges: mergeRanges(edges),
    contestedRange: { ...(contestedFrom === undefined ? {} : { from: contestedFrom }), to: asOf },
    presenceToday,
  };
  const sequenceOf = (s: SequenceUse) => plannedSequences[(sequenceNos.get(sequenceKey(s)) as number) - planned.length] as PlannedSequence;
  return { plan, useOf, sequenceOf };
}

/** Sorted, disjoint ranges covering the same instants (touching ranges joined). */
export function mergeRanges(ranges: readonly InstantRange[]): InstantRange[] {
  const sorted = [...ranges].sort((a, b) => (a.from ?? Number.NEGATIVE_INFINITY) - (b.from ?? Number.NEGATIVE_INFINITY));
  const out: InstantRange[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && (range.from === undefined || range.from <= last.to)) {
      out[out.length - 1] = { ...last, to: Math.max(last.to, range.to) };
    } else {
      out.push(range);
    }
  }
  return out;
}

/**
 * The `dt` partitions that can hold events of the ranges (one day of slack each side), sorted;
 * a range reaching back to all history starts at the lake's first partition.
 */
export function rangePartitions(ranges: readonly InstantRange[], firstPartition: string | undefined): string[] {
  const days = new Set<string>();
  for (const range of ranges) {
    const last = partitionDate(range.to - 1 + DAY_MS);
    let start: number;
    if (range.from === undefined) {
      if (firstPartition === undefined)
        throw new Error("a raw read of all history needs the lake's first partition (TiledCompileRequest.firstPartition)");
      start = Date.parse(`${firstPartition}T00:00:00Z`);
    } else {
      start = range.from - DAY_MS;
      if (firstPartition !== undefined) start = Math.max(start, Date.parse(`${firstPartition}T00:00:00Z`));
    }
    for (let day = floorDay(start); dayOf(day) <= last; day += DAY_MS) days.add(dayOf(day));
  }
  return [...days].sort();
}
