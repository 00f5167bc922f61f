import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cohorts } from '../support/cli.ts';
import { CONFORMANCE_ROOT, caseNames } from '../support/conformance.ts';

/** `expect.txt`: the file the error names, optionally its line, and words it must mention. */
function readExpectation(text: string) {
  const lines = text.split('\n');
  const value = (key: string) => lines.filter((l) => l.startsWith(`${key}:`)).map((l) => l.slice(key.length + 1).trim());
  return {
    files: (value('file')[0] ?? '').split('|').map((f) => f.trim()),
    line: value('line')[0] === undefined ? undefined : Number(value('line')[0]),
    mentions: value('mentions').map((m) => m.split('|').map((w) => w.trim().toLowerCase())),
  };
}

const ERROR_LINE = /^(.+?):(\d+):(\d+): (.+)$/;

describe.each(caseNames('invalid'))('invalid definitions %s', (name) => {
  const dir = join(CONFORMANCE_ROOT, 'invalid', name);
  const expectation = readExpectation(readFileSync(join(dir, 'expect.txt'), 'utf8'));

  it('fails validation with a path:line:col line naming the file, line and problem', async () => {
    const result = await cohorts('validate', '--definitions', join(dir, 'definitions'));
    expect(result.code).toBe(1);
    const matching = result.stdout.filter((line) => {
      const parsed = ERROR_LINE.exec(line);
      if (!parsed) return false;
      const [, path, lineNo, , message] = parsed;
      if (!expectation.files.some((f) => (path as string).endsWith(f))) return false;
      if (expectation.line !== undefined && Number(lineNo) !== expectation.line) return false;
      return expectation.mentions.every((words) => words.some((w) => (message as string).toLowerCase().includes(w)));
    });
    expect(matching, `got:\n${result.stdout.join('\n')}`).not.toHaveLength(0);
  });
});
