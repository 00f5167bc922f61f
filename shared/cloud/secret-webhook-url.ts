import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall } from './aws-call.ts';

/** The secret does not hold a usable webhook URL. The message never shows the secret's value. */
export class InvalidWebhookSecretError extends Error {
  override readonly name = 'InvalidWebhookSecretError';
}

/** Options of {@link secretWebhookUrl}. */
export interface SecretWebhookUrlOptions {
  /** How long a read URL is reused, so a rotated secret is picked up without a deployment. @default 5 minutes */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * The webhook URL in a secret: the secret string is the URL itself, or JSON with a `url` key.
 * It must be an `https://` URL.
 */
export function webhookUrlOf(secretId: string, secretString: string | undefined): string {
  const text = secretString?.trim() ?? '';
  let candidate: unknown = text;
  if (text.startsWith('{')) {
    try {
      candidate = (JSON.parse(text) as { url?: unknown }).url;
    } catch {
      candidate = undefined;
    }
  }
  if (typeof candidate === 'string' && URL.canParse(candidate) && new URL(candidate).protocol === 'https:') return candidate;
  throw new InvalidWebhookSecretError(
    `secret ${secretId} must hold a Slack incoming-webhook URL (https://hooks.slack.com/services/...) as plain text, or JSON {"url": "..."}`,
  );
}

/** Reads the webhook URL from Secrets Manager, once per `ttlMs` (a failed read is not kept). */
export function secretWebhookUrl(
  client: SecretsManagerClient,
  secretId: string,
  options: SecretWebhookUrlOptions = {},
): () => Promise<string> {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: { url: string; readAt: number } | undefined;
  return async () => {
    if (cached && now() - cached.readAt < ttlMs) return cached.url;
    const secret = await awsCall('SecretsManager.GetSecretValue', () => client.send(new GetSecretValueCommand({ SecretId: secretId })));
    cached = { url: webhookUrlOf(secretId, secret.SecretString), readAt: now() };
    return cached.url;
  };
}
