import { z } from 'zod';
import { PROPERTY_NAME } from '../language/schema.ts';
import { shownValue as shown } from '../language/errors.ts';

/** Where the suppression list lives unless configured: a key in the state folder (snapshots bucket in the cloud). */
export const DEFAULT_SUPPRESSION_LIST = 'privacy/suppressed.txt';

/** The `privacy:` section of the project config. */
export interface PrivacySettings {
  /**
   * Event property names (top-level keys of `properties`, case-sensitive) that hold personal
   * data. A definition may test them only with `exists`; their values never reach a snapshot,
   * an export, an alert, a log or the report.
   * @default [] (no property is personal)
   */
  readonly personal_properties: readonly string[];
  /**
   * The opt-out list: a key in the state folder (locally) or the snapshots bucket (in the cloud),
   * one person id a line. Listed people are left out of every version and export written.
   * @default 'privacy/suppressed.txt'
   */
  readonly suppression_list: string;
  /**
   * Name of an environment variable that holds the key of erasure records (locally only). Absent:
   * the key file (`--privacy-key`, by default under the user's config folder, never in the state
   * folder), generated once; in the cloud the construct's privacy key secret.
   * @default - the key file
   */
  readonly salt_env?: string;
}

/** A relative key inside the store: no leading slash, no `.` or `..` segments. */
const storeKey = z
  .string({ error: (issue) => `must be a key inside the state folder such as "${DEFAULT_SUPPRESSION_LIST}", got ${shown(issue.input)}` })
  .refine(
    (key) =>
      key.length > 0 &&
      !key.startsWith('/') &&
      !key.endsWith('/') &&
      key.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
    {
      error: (issue) =>
        `must be a key inside the state folder such as "${DEFAULT_SUPPRESSION_LIST}" (no leading /, no . or ..), got ${shown(issue.input)}`,
    },
  );

/** The `privacy:` section as zod validates it. */
export const privacySchema = z
  .strictObject({
    personal_properties: z
      .array(
        z
          .string({ error: (issue) => `must be a property name, got ${shown(issue.input)}` })
          .regex(PROPERTY_NAME, { error: (issue) => `must be a property name (${PROPERTY_NAME.source}), got ${shown(issue.input)}` }),
      )
      .default([]),
    suppression_list: storeKey.default(DEFAULT_SUPPRESSION_LIST),
    salt_env: z
      .string({ error: (issue) => `must be an environment variable name, got ${shown(issue.input)}` })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (issue) => `must be an environment variable name, got ${shown(issue.input)}` })
      .optional(),
  })
  .prefault({});
