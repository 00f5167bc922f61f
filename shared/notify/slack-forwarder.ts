import { z } from 'zod';
import { parseEvent } from '../input-validation.ts';
import { slackPayload } from './slack-message.ts';

/** The part of `fetch` the forwarder uses, so tests pass a fake and never touch the network. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
}>;

/** Ports of {@link forwardToSlack}. */
export interface SlackForwarderPorts {
  /** The incoming-webhook URL (a secret: never logged, never in an error). */
  readonly webhookUrl: () => Promise<string>;
  readonly fetch: FetchLike;
  /** How long one POST may take. @default 10 seconds */
  readonly timeoutMs?: number;
}

/** Slack refused or failed a post. Thrown so that Lambda retries the delivery. */
export class SlackWebhookError extends Error {
  override readonly name = 'SlackWebhookError';

  constructor(
    readonly status: number,
    /** Slack's answer, e.g. `invalid_token` or `channel_not_found`, cut to 200 characters. */
    readonly answer: string,
  ) {
    super(`Slack answered the webhook post with HTTP ${status}: ${answer}`);
  }
}

const attribute = z.object({ Type: z.string(), Value: z.string() });

/** What SNS hands a subscribed Lambda function (only the fields used). */
export const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        Sns: z.object({
          Subject: z.string().nullish(),
          Message: z.string(),
          MessageAttributes: z.record(z.string(), attribute).optional(),
        }),
      }),
    )
    .min(1),
});

/** The name input errors carry. */
export const SLACK_FORWARDER = 'SlackAlerts';

/**
 * Posts every message of an SNS delivery to the Slack incoming webhook, in order. A post Slack
 * does not accept is a {@link SlackWebhookError}; a malformed event an `InvalidEventError`.
 */
export async function forwardToSlack(event: unknown, ports: SlackForwarderPorts): Promise<{ readonly posted: number }> {
  const { Records } = parseEvent(SLACK_FORWARDER, snsEventSchema, event);
  const url = await ports.webhookUrl();
  for (const { Sns } of Records) {
    const body = JSON.stringify(
      slackPayload({ subject: Sns.Subject, message: Sns.Message, severity: Sns.MessageAttributes?.severity?.Value }),
    );
    const response = await ports.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(ports.timeoutMs ?? 10_000),
    });
    if (!response.ok) throw new SlackWebhookError(response.status, (await response.text().catch(() => '')).slice(0, 200));
  }
  return { posted: Records.length };
}
