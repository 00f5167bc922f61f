import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretWebhookUrl } from '../shared/cloud/secret-webhook-url.ts';
import { forwardToSlack, SLACK_FORWARDER, type SlackForwarderPorts } from '../shared/notify/slack-forwarder.ts';
import { readSlackConfig } from './commons/config.ts';
import type { LambdaContext } from './commons/handler.ts';
import { once } from './commons/once.ts';
import { logger } from './commons/powertools.ts';

/** Created once per container; only this function talks to Secrets Manager. */
const secretsManager = new SecretsManagerClient({});

const slackPorts = once(
  (): SlackForwarderPorts => ({ webhookUrl: secretWebhookUrl(secretsManager, readSlackConfig().SLACK_WEBHOOK_SECRET), fetch }),
);

/** Subscribed to the alerts topic: posts each alert to the Slack incoming webhook kept in Secrets Manager. */
export async function handler(event: unknown, context?: LambdaContext): Promise<{ readonly posted: number }> {
  if (context) logger.addContext(context as never);
  logger.appendKeys({ step: SLACK_FORWARDER });
  try {
    const result = await forwardToSlack(event, slackPorts());
    logger.info('alert posted to Slack', { posted: result.posted });
    return result;
  } catch (error) {
    logger.error('posting the alert to Slack failed', error as Error);
    throw error;
  }
}
