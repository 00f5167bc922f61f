/**
 * Bench-only count of the members codec's calls that reach it (past the memo), by the step code that
 * made them: wraps `encode` and `decode` of a codec class and names each call by the nearest frame of
 * the snapshot step, Deliver or the exports in its (async) stack. Nothing here runs outside bench/.
 */

/** Calls and ids since the last {@link takeCodecCalls}, by "method caller". */
const calls = new Map<string, { count: number; ids: number }>();

/** The step file and line a codec call came from, from the call's stack. */
function callerOf(stack: string | undefined): string {
  const frame = /(snapshot-cohort|deliver-step|exports)\.ts:(\d+)/.exec(stack ?? '');
  return frame ? `${frame[1]}:${frame[2]}` : 'elsewhere';
}

/** Counts every `encode` and `decode` of `proto` (a codec class's prototype) by caller. */
export function countCodecCalls(proto: object): void {
  const target = proto as Record<string, unknown>;
  for (const method of ['encode', 'decode'] as const) {
    const original = target[method] as (this: unknown, input: unknown) => Promise<unknown>;
    target[method] = async function (this: unknown, input: unknown) {
      const key = `${method} ${callerOf(new Error().stack)}`;
      const result = await original.call(this, input);
      const ids = method === 'encode' ? (input as readonly string[]).length : (result as readonly string[]).length;
      const seen = calls.get(key) ?? { count: 0, ids: 0 };
      calls.set(key, { count: seen.count + 1, ids: seen.ids + ids });
      return result;
    };
  }
}

/** The calls counted since the last call, as text, then resets them. */
export function takeCodecCalls(): string {
  const text = [...calls]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, { count, ids }]) => `${key} ${count} (${ids} ids)`)
    .join('; ');
  calls.clear();
  return text || 'none';
}
