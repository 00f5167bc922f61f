import type { z } from 'zod';

/** Reading zod issues back as the problems a person wrote: which branch of a union was meant. */

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/**
 * A union whose every branch failed reports the branch the input was meant for: the one that did
 * not reject the input's type or miss its own distinguishing key.
 */
export function flattenIssues(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const intended = issue.errors.filter((branch) => !branch.some((inner) => rejectsShape(inner)));
    const chosen = intended.length > 0 ? intended.reduce((a, b) => (b.length < a.length ? b : a)) : undefined;
    if (!chosen) return [issue];
    return flattenIssues(chosen.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue));
  });
}

/** A refinement that failed only because of a more specific issue beneath it adds nothing. */
export function withoutEchoes(issues: readonly Issue[]): Issue[] {
  const startsWith = (path: readonly PathKey[], prefix: readonly PathKey[]) => prefix.every((key, i) => path[i] === key);
  return issues.filter(
    (issue) =>
      issue.code !== 'custom' || !issues.some((other) => other !== issue && other.code !== 'custom' && startsWith(other.path, issue.path)),
  );
}

function rejectsShape(issue: Issue): boolean {
  if (issue.code === 'invalid_type' && issue.path.length === 0) return true;
  // A missing distinguishing key (`all`, `event`, ...) marks a branch meant for another form.
  return (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.path.length === 1 && issue.input === undefined;
}

/**
 * Each issue of a failed parse as one `path: message` line, the path's keys joined by dots
 * (`cohorts.0: ...`); `whole` stands for the path of an issue about the input itself.
 */
export function issueLines(error: { readonly issues: readonly Issue[] }, whole = ''): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : whole}: ${issue.message}`);
}
