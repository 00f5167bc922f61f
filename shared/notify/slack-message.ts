/**
 * What a message on the alerts topic looks like in Slack: the e-mail subject in bold, the plain
 * text below it in a code block (the alert bodies are aligned for a fixed-width font). Alarm
 * messages, which CloudWatch publishes as JSON, become a few readable lines. Alerts name cohorts
 * and counts, never members, so nothing personal reaches the channel.
 */

/** One message as it arrives from the topic. */
export interface TopicMessage {
  /** The SNS subject (the e-mail subject), absent when the publisher set none. */
  readonly subject?: string | null | undefined;
  readonly message: string;
  /** The `severity` message attribute of our alerts: info, warn, fail or error. */
  readonly severity?: string | undefined;
}

/** An incoming-webhook payload: text in Slack's mrkdwn, links not unfurled. */
export interface SlackPayload {
  readonly text: string;
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

/**
 * Longest body kept. Slack cuts `text` at 40,000 characters but advises under 4,000; run alerts are
 * far shorter, and the e-mail keeps the whole text.
 */
export const MAX_SLACK_BODY_CHARS = 3500;

/** The emoji a message starts with, by alert severity or alarm state. */
export const EMOJI: Readonly<Record<string, string>> = {
  error: ':rotating_light:',
  fail: ':no_entry:',
  warn: ':warning:',
  info: ':information_source:',
  ALARM: ':rotating_light:',
  OK: ':white_check_mark:',
  INSUFFICIENT_DATA: ':grey_question:',
};

/** Slack's three control characters, escaped as its docs ask. */
export const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Fields of a CloudWatch alarm notification. */
interface AlarmNotification {
  readonly AlarmName: string;
  readonly NewStateValue: string;
  readonly AlarmDescription?: string | null;
  readonly NewStateReason?: string;
  readonly StateChangeTime?: string;
  readonly Region?: string;
}

function alarmOf(message: string): AlarmNotification | undefined {
  if (!message.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as Partial<AlarmNotification>;
    return typeof parsed.AlarmName === 'string' && typeof parsed.NewStateValue === 'string' ? (parsed as AlarmNotification) : undefined;
  } catch {
    return undefined;
  }
}

/** The text, cut to {@link MAX_SLACK_BODY_CHARS} with a note when longer. */
export function cutForChat(text: string): string {
  const chars = [...text];
  if (chars.length <= MAX_SLACK_BODY_CHARS) return text;
  return `${chars.slice(0, MAX_SLACK_BODY_CHARS).join('').trimEnd()}\n… (cut; the e-mail alert has the full text)`;
}

/** A code block that no text inside can close early. */
const codeBlock = (text: string) => `\`\`\`\n${escapeSlack(cutForChat(text)).replace(/```/g, "'''")}\n\`\`\``;

const payload = (text: string): SlackPayload => ({ text, unfurl_links: false, unfurl_media: false });

/** The Slack message of one topic message. */
export function slackPayload(input: TopicMessage): SlackPayload {
  const alarm = alarmOf(input.message);
  if (alarm) {
    const lines = [alarm.AlarmDescription, alarm.NewStateReason, [alarm.Region, alarm.StateChangeTime].filter(Boolean).join(', ')].filter(
      (line): line is string => typeof line === 'string' && line.trim() !== '',
    );
    const heading = `${EMOJI[alarm.NewStateValue] ?? ':bell:'} *${escapeSlack(`${alarm.NewStateValue}: ${alarm.AlarmName}`)}*`;
    return payload(lines.length > 0 ? `${heading}\n${codeBlock(lines.join('\n'))}` : heading);
  }
  const text = input.message.replace(/\s+$/, '');
  const [firstLine = '', ...rest] = text.split('\n');
  const subject = input.subject?.trim() || firstLine.trim();
  // Our alerts repeat their title as the message's first line: keep it once, in the heading.
  const first = firstLine.trim();
  const repeatsSubject = first !== '' && (subject === first || subject.endsWith(`: ${first}`));
  const body = repeatsSubject || first === '' ? rest.join('\n').replace(/^\n+/, '') : text;
  const heading = `${EMOJI[input.severity ?? ''] ?? ':bell:'} *${escapeSlack(subject)}*`;
  return payload(body.trim() === '' ? heading : `${heading}\n${codeBlock(body)}`);
}
