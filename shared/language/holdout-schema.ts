import { z } from 'zod';
import { HOLDOUT_TEXT, holdoutShare } from '../experiments/holdout.ts';

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
