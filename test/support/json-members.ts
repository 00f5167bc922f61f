/**
 * The raw text of each top-level member of a JSON object, exactly as written in the line
 * (`{"seats": 5e0}` gives `5e0`, not `5`). `undefined` when the line is not one strict JSON
 * object (RFC 8259, as `JSON.parse` reads it). A key written twice keeps its last value, as
 * `JSON.parse` does.
 */
export function jsonMembers(line: string): Map<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  // The line is valid JSON from here on, so the scan below needs no error handling.
  const members = new Map<string, string>();
  let i = skipSpace(line, line.indexOf('{') + 1);
  while (line[i] !== '}') {
    const keyEnd = endOfValue(line, i);
    const key = JSON.parse(line.slice(i, keyEnd)) as string;
    const start = skipSpace(line, skipSpace(line, keyEnd) + 1);
    const end = endOfValue(line, start);
    members.set(key, line.slice(start, end));
    i = skipSpace(line, end);
    if (line[i] === ',') i = skipSpace(line, i + 1);
  }
  return members;
}

const SPACE = new Set([' ', '\t', '\n', '\r']);

function skipSpace(text: string, i: number): number {
  while (SPACE.has(text[i] as string)) i++;
  return i;
}

function endOfString(text: string, i: number): number {
  let j = i + 1;
  while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** The index just after the valid JSON value starting at `i`. */
function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return endOfString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    do {
      const c = text[j];
      if (c === '"') {
        j = endOfString(text, j);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      j++;
    } while (depth > 0);
    return j;
  }
  let j = i;
  while (j < text.length && !SPACE.has(text[j] as string) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j++;
  return j;
}
