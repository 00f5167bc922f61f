import { disjunction } from './predicates.ts';

/**
 * A sequence leaf (issue 16) as SQL, written once for the full query and the tiled one: which of
 * a person's events match which step, then one window per step over the person's instants.
 */

/** The events a sequence reads and how to read them. */
export interface SequenceInput {
  /** Prefix of the CTE names. */
  readonly name: string;
  /** The relation of the events, aliased `e` (with any join the person needs). */
  readonly from: string;
  /** The person of an event of `from`. */
  readonly person: string;
  /** Whether an event matches each step, over `e`, in order (at least two); each never NULL. */
  readonly steps: readonly string[];
  /** Each step at most this long after the one before (inclusive), when given. */
  readonly maxGapMs?: number;
}

/** One common table expression: its name and the lines of its body. */
export interface SequenceCte {
  readonly name: string;
  readonly lines: readonly string[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A duration of whole hours as an interval literal both engines read the same way (days when whole). */
function intervalLiteral(ms: number): string {
  if (ms % HOUR_MS !== 0) throw new Error(`a sequence gap must be whole hours, got ${ms} ms`);
  return ms % DAY_MS === 0 ? `INTERVAL '${ms / DAY_MS}' DAY` : `INTERVAL '${ms / HOUR_MS}' HOUR`;
}

/**
 * The CTEs of a sequence; the last one, `name`, holds one row (`person_id`) per person with the
 * sequence. First, the matching events are grouped by person and instant (`step<k>`: some event at
 * that instant matches step k): two events at one instant can never be consecutive steps, so once
 * every instant is one row, the rows before a row are exactly the strictly earlier instants, in
 * any engine (a ROWS frame). Then, step by step, `end<k>` marks the instants that end a valid
 * chain of steps 1..k: the instant matches step k and the latest earlier end of step k-1 exists
 * (and is at most the gap before it: a later end leaves a smaller gap, so it is the witness).
 */
export function sequenceCtes(input: SequenceInput): SequenceCte[] {
  const { name, steps } = input;
  if (steps.length < 2) throw new Error('a sequence needs at least two steps');
  const instants = `${name}_instants`;
  const ctes: SequenceCte[] = [
    {
      name: instants,
      lines: [
        `SELECT ${input.person} AS person_id, e.ts, ${steps.map((step, i) => `bool_or(${step}) AS step${i + 1}`).join(', ')}`,
        ...input.from.split('\n').map((line, i) => (i === 0 ? `FROM ${line}` : line)),
        `WHERE ${disjunction([...steps])}`,
        `GROUP BY ${input.person}, e.ts`,
      ],
    },
  ];
  const gap = input.maxGapMs === undefined ? undefined : intervalLiteral(input.maxGapMs);
  let previous = instants;
  for (let k = 2; k <= steps.length; k++) {
    const before = k === 2 ? 'step1' : `end${k - 1}`;
    const latest = `max(CASE WHEN ${before} THEN ts END) OVER (PARTITION BY person_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;
    const end = gap === undefined ? `(step${k} AND ${latest} IS NOT NULL)` : `coalesce(step${k} AND ${latest} >= ts - ${gap}, FALSE)`;
    const cte = `${name}_step${k}`;
    ctes.push({ name: cte, lines: [`SELECT *, ${end} AS end${k}`, `FROM ${previous}`] });
    previous = cte;
  }
  ctes.push({ name, lines: ['SELECT DISTINCT person_id', `FROM ${previous}`, `WHERE end${steps.length}`] });
  return ctes;
}

/**
 * The lines of a CTE of every column of `base` (one row per person) and, per sequence, a boolean
 * `column`: the person is among its `holders` (the last CTE of {@link sequenceCtes}).
 */
export function sequencedPersonsLines(base: string, sequences: readonly { readonly column: string; readonly holders: string }[]): string[] {
  return [
    `SELECT p.*${sequences.map((s) => `, ${s.column}_h.person_id IS NOT NULL AS ${s.column}`).join('')}`,
    `FROM ${base} AS p`,
    ...sequences.map((s) => `LEFT JOIN ${s.holders} AS ${s.column}_h ON ${s.column}_h.person_id = p.person_id`),
  ];
}
