import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { awsCall } from './aws-call.ts';
import { chatbotNotification } from './chatbot-notification.ts';
import type { Alert, Notifier } from '../ports.ts';

/**
 * SNS wants subjects "less than 100 characters long", with no line breaks or control characters.
 * Counted in code points, which is at least as strict as SNS counts.
 */
export const MAX_SUBJECT_CHARS = 99;

/**
 * Room for the body inside SNS's 256 KiB limit, which counts the subject and the attributes too.
 * Alerts are far smaller; the cut only keeps a pathological one deliverable.
 */
const MAX_MESSAGE_BYTES = 250_000;

/** One line: control characters and line separators become spaces, runs of spaces one space. */
const oneLine = (text: string) =>
  text
    .replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** The e-mail subject of an alert: `[cohort-refresh] WARN: <title>`, one line, cut to fit. */
export function alertSubject(alert: Alert): string {
  const subject = oneLine(`[cohort-refresh] ${alert.severity.toUpperCase()}: ${alert.title}`);
  const chars = [...subject];
  return chars.length <= MAX_SUBJECT_CHARS
    ? subject
    : `${chars
        .slice(0, MAX_SUBJECT_CHARS - 1)
        .join('')
        .trimEnd()}…`;
}

/** The plain-text message: title, body, then the facts a reader needs to find the run. */
export function alertMessage(alert: Alert, maxBytes: number = MAX_MESSAGE_BYTES): string {
  const facts = [
    `severity: ${alert.severity}`,
    alert.cohorts.length > 0 ? `cohorts: ${alert.cohorts.join(', ')}` : undefined,
    alert.step ? `step: ${alert.step}` : undefined,
    alert.run_id ? `run: ${alert.run_id}` : undefined,
  ].filter((line): line is string => line !== undefined);
  return cutToBytes(`${alert.title}\n\n${alert.body.trimEnd()}\n\n${facts.join('\n')}\n`, maxBytes);
}

function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const note = '\n[message cut: too long for SNS]\n';
  // Cutting inside a multi-byte character leaves U+FFFD at the end; drop it.
  const head = bytes
    .subarray(0, maxBytes - Buffer.byteLength(note))
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return head + note;
}

const stringAttribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * Message attributes subscribers filter on (`FilterPolicy`): `severity` always, `cohort` when the
 * alert is about exactly one cohort, `run_id` when known. SNS refuses empty attribute values.
 */
export function alertAttributes(alert: Alert): Record<string, MessageAttributeValue> {
  const [only, ...others] = alert.cohorts;
  return {
    severity: stringAttribute(alert.severity),
    ...(only && others.length === 0 ? { cohort: stringAttribute(only) } : {}),
    ...(alert.run_id ? { run_id: stringAttribute(alert.run_id) } : {}),
  };
}

/** Options of {@link SnsNotifier}. */
export interface SnsNotifierOptions {
  /**
   * Also publish an AWS Chatbot custom notification, which HTTPS subscribers (Chatbot subscribes
   * over HTTPS) receive instead of the text; e-mail, Lambda and every other protocol keep the text.
   *
   * @default false
   */
  readonly chatbot?: boolean;
}

/**
 * Room for the text when it travels JSON-escaped beside the Chatbot variant: escaping at most
 * doubles ordinary text, and the Chatbot variant is cut to a few KB.
 */
const MAX_TEXT_BYTES_BESIDE_CHATBOT = 120_000;

/** Publishes alerts to an SNS topic (the construct's alerts topic), readable as e-mail. */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly options: SnsNotifierOptions = {},
  ) {}

  async notify(alert: Alert): Promise<void> {
    const message = this.options.chatbot
      ? {
          MessageStructure: 'json',
          Message: JSON.stringify({
            default: alertMessage(alert, MAX_TEXT_BYTES_BESIDE_CHATBOT),
            https: chatbotNotification(alert, alertSubject(alert)),
          }),
        }
      : { Message: alertMessage(alert) };
    await awsCall('SNS.Publish', () =>
      this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: alertSubject(alert),
          ...message,
          MessageAttributes: alertAttributes(alert),
        }),
      ),
    );
  }
}
