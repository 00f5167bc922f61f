import { z } from 'zod';

/** `10%` or `2.5%`: the share of members held out of a program, more than 0 and less than 100. */
export const HOLDOUT_TEXT = /^(\d{1,2}(\.\d{1,4})?)%$/;

/** The share of a `holdout:` text (`10%` -> 0.1); undefined when it is not one. */
export function holdoutShare(text: string): number | undefined {
  const match = HOLDOUT_TEXT.exec(text);
  if (!match) return undefined;
  const percent = Number(match[1]);
  return percent > 0 && percent < 100 ? percent / 100 : undefined;
}

/** `program.holdout`: a share of members such as `10%`. */
export const holdoutText = z
  .string({ error: (issue) => `must be a share such as 10%, got ${JSON.stringify(issue.input)}` })
  .refine((value) => holdoutShare(value) !== undefined, {
    error: (issue) => `must be a share above 0% and below 100% such as 10% or 2.5%, got ${JSON.stringify(issue.input)}`,
  })
  .meta({ pattern: HOLDOUT_TEXT.source, description: 'Share of members held out of the program, e.g. 10%; needs experiment and salt.' });

/** A holdout needs an experiment to belong to and a salt; a salt means nothing without a holdout. */
export function holdoutNeeds(
  program: { experiment?: string | undefined; holdout?: string | undefined; salt?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (program.holdout !== undefined && program.experiment === undefined) {
    ctx.addIssue({ code: 'custom', path: ['holdout'], message: 'needs program.experiment: name the experiment the holdout belongs to' });
  }
  if (program.holdout !== undefined && program.salt === undefined) {
    ctx.addIssue({ code: 'custom', path: ['holdout'], message: 'needs program.salt: any text, mixed into the hash that assigns members' });
  }
  if (program.salt !== undefined && program.holdout === undefined) {
    ctx.addIssue({ code: 'custom', path: ['salt'], message: 'is used only with program.holdout' });
  }
}
