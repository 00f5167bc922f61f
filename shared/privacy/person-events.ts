/**
 * JSON lines of events (`<state>/events.jsonl`) without the per-member events of some people:
 * `Cohort Entered` and `Cohort Exited` name one person in `detail.person_id`, so erasure drops
 * those lines whole. Undefined when no line names them (nothing to rewrite).
 */
export function withoutPersonEvents(text: string, drop: ReadonlySet<string>): string | undefined {
  const lines = text.split('\n');
  const kept = lines.filter((line) => {
    const personId = personIdOf(line);
    return personId === undefined || !drop.has(personId);
  });
  return kept.length === lines.length ? undefined : kept.join('\n');
}

function personIdOf(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { detail?: { person_id?: unknown } } | null;
    const id = event?.detail?.person_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
