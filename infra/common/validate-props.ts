import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { KEPT_KEYS_GRACE_MS } from '../../shared/cloud/kept-key-versions.ts';

/** A construct prop with a value the construct cannot work with; the message shows the value. */
export class InvalidPropError extends Error {
  override name = 'InvalidPropError';
}

/** Athena rejects a smaller data usage control limit (10 MB). */
export const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;
const LAKE_PREFIX = /^(?:[A-Za-z0-9_.=-]+\/)*$/;
const DATABASE_NAME = /^[a-z][a-z0-9_]{0,254}$/;
const WORK_GROUP_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const SLACK_WORKSPACE_ID = /^[0-9A-Z]{1,255}$/;
const SLACK_CHANNEL_ID = /^[A-Za-z0-9]{1,255}$/;
const CHATBOT_CONFIGURATION_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** `''` or `/`-terminated segments of letters, digits, `_ . = -`; no leading `/`, no wildcards. */
export function validateLakePrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (!LAKE_PREFIX.test(prefix)) {
    throw new InvalidPropError(
      `eventLakePrefix must be '' or end with "/" and contain only letters, digits and "_.=-" between slashes, got ${show(prefix)}`,
    );
  }
}

/** Every address looks like an e-mail address and appears once. */
export function validateAlertEmails(emails: readonly string[]): void {
  const seen = new Set<string>();
  for (const email of emails) {
    if (Token.isUnresolved(email)) continue;
    if (!EMAIL.test(email)) {
      throw new InvalidPropError(`alertEmails must hold e-mail addresses, got ${show(email)}`);
    }
    const key = email.toLowerCase();
    if (seen.has(key)) throw new InvalidPropError(`alertEmails lists ${show(email)} twice`);
    seen.add(key);
  }
}

/** A whole number of days, at least one. */
export function validateWholeDays(prop: string, duration: Duration): void {
  if (duration.isUnresolved()) return;
  const days = duration.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1) {
    throw new InvalidPropError(`${prop} must be a whole number of days, at least 1, got ${duration.toHumanString()}`);
  }
}

/** An integer number of bytes Athena accepts as a per-query cutoff. */
export function validateBytesScannedCutoff(bytes: number): void {
  if (Token.isUnresolved(bytes)) return;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_BYTES_SCANNED_CUTOFF) {
    throw new InvalidPropError(
      `athenaBytesScannedCutoffPerQuery must be an integer of at least ${MIN_BYTES_SCANNED_CUTOFF} bytes, got ${show(bytes)}`,
    );
  }
}

/** A Glue database name Athena can query without quoting. */
export function validateDatabaseName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!DATABASE_NAME.test(name)) {
    throw new InvalidPropError(
      `databaseName must start with a lower-case letter and hold only a-z, 0-9 and "_" (at most 255), got ${show(name)}`,
    );
  }
}

/** A name Athena accepts for a workgroup. */
export function validateWorkGroupName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!WORK_GROUP_NAME.test(name)) {
    throw new InvalidPropError(`workGroupName must be 1 to 128 of A-Z, a-z, 0-9, ".", "_" and "-", got ${show(name)}`);
  }
}

/** S3 buckets and KMS keys take RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY; not SNAPSHOT. */
export function validateRemovalPolicy(policy: RemovalPolicy): void {
  if (policy === RemovalPolicy.SNAPSHOT) {
    throw new InvalidPropError(`removalPolicy must be RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY, got ${show(policy)}`);
  }
}

/** Ids as Slack shows them (`T0123ABCD`, `C0456EFGH`) and a name Chatbot accepts. */
export function validateSlackChannel(channel: {
  readonly workspaceId: string;
  readonly channelId: string;
  readonly configurationName?: string;
}): void {
  const { workspaceId, channelId, configurationName } = channel;
  if (!Token.isUnresolved(workspaceId) && !SLACK_WORKSPACE_ID.test(workspaceId)) {
    throw new InvalidPropError(
      `slackChannel.workspaceId must be a Slack workspace id of A-Z and 0-9 such as "T0123ABCD", got ${show(workspaceId)}`,
    );
  }
  if (!Token.isUnresolved(channelId) && !SLACK_CHANNEL_ID.test(channelId)) {
    throw new InvalidPropError(
      `slackChannel.channelId must be a Slack channel id of letters and digits such as "C0456EFGH", got ${show(channelId)}`,
    );
  }
  if (configurationName !== undefined && !Token.isUnresolved(configurationName) && !CHATBOT_CONFIGURATION_NAME.test(configurationName)) {
    throw new InvalidPropError(
      `slackChannel.configurationName must be 1 to 128 letters, digits, "-" or "_", got ${show(configurationName)}`,
    );
  }
}

/** A state machine name Step Functions accepts (and a log group name suffix). */
export function validateStateMachineName(name: string): void {
  if (!Token.isUnresolved(name) && !STATE_MACHINE_NAME.test(name)) {
    throw new InvalidPropError(`stateMachineName must be 1 to 80 letters, digits, "-" or "_", got ${show(name)}`);
  }
}

/** How many iterations of a Map state run at once. */
export function validateConcurrency(prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 40) {
    throw new InvalidPropError(`${prop} must be a whole number from 1 to 40, got ${value}`);
  }
}

/** A timeout Step Functions accepts: whole seconds, at least one. */
export function validateWholeSeconds(prop: string, duration: Duration): void {
  if (duration.toMilliseconds() % 1000 !== 0 || duration.toSeconds() < 1) {
    throw new InvalidPropError(`${prop} must be whole seconds, at least one, got ${duration.toHumanString()}`);
  }
}

/** The Evaluate query must time out before the execution does, or its failure is never alerted. */
export function validateEvaluationTimeout(evaluationTimeout: Duration, timeout: Duration): void {
  if (evaluationTimeout.toSeconds() >= timeout.toSeconds()) {
    throw new InvalidPropError(
      `evaluationTimeout (${evaluationTimeout.toHumanString()}) must be shorter than timeout (${timeout.toHumanString()})`,
    );
  }
}

/**
 * An execution must end well within the grace period of the kept identity keys: a run reads the
 * version its Plan found current, and that version's files are deleted
 * {@link KEPT_KEYS_GRACE_MS} after a newer one replaced it.
 */
export function validateTimeoutWithinGrace(timeout: Duration): void {
  if (timeout.toMilliseconds() >= KEPT_KEYS_GRACE_MS) {
    throw new InvalidPropError(
      `timeout (${timeout.toHumanString()}) must be shorter than ${KEPT_KEYS_GRACE_MS / 3_600_000} hours: the identity keys a run reads are deleted that long after newer ones replace them`,
    );
  }
}
