import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueLines } from '../../shared/language/zod-issues.ts';

const failed = (schema: z.ZodType, input: unknown) => {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the input to be refused');
  return result.error;
};

describe('issueLines', () => {
  it('writes every issue as one `path: message` line, keys and indexes joined by dots, in the order zod found them', () => {
    const schema = z.object({ run: z.object({ cohorts: z.array(z.string()) }), as_of: z.string().min(1, 'must not be empty') });

    const lines = issueLines(failed(schema, { run: { cohorts: ['a', 7] }, as_of: '' }));

    expect(lines).toEqual([expect.stringMatching(/^run\.cohorts\.1: Invalid input: expected string/), 'as_of: must not be empty']);
  });

  it('names an issue about the input itself by `whole` (empty by default)', () => {
    const schema = z.object({ a: z.string() });

    expect(issueLines(failed(schema, 'text'), '(input)')).toEqual([expect.stringMatching(/^\(input\): Invalid input: expected object/)]);
    expect(issueLines(failed(schema, 'text'))).toEqual([expect.stringMatching(/^: Invalid input: expected object/)]);
  });
});
