import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidWebhookSecretError, secretWebhookUrl, webhookUrlOf } from '../../shared/cloud/secret-webhook-url.ts';
import { alertMessage, alertSubject } from '../../shared/cloud/sns-notifier.ts';
import { type FetchLike, forwardToSlack, SlackWebhookError } from '../../shared/notify/slack-forwarder.ts';
import { MAX_SLACK_BODY_CHARS, slackPayload } from '../../shared/notify/slack-message.ts';
import { serviceError } from './support.ts';
import type { Alert } from '../../shared/ports.ts';

const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/secret-token';
const SECRET = 'cohort-refresh/slack-webhook';

const heldAlert: Alert = {
  severity: 'fail',
  title: 'cohort refresh 2024-06-01: 1 held',
  body: 'Held (current unchanged):\n  power_users v7: fail max_change_pct: size fell 45% (limit 30%) <see runbook> & retry',
  run_id: 'run-42',
  cohorts: ['power_users'],
};

/** An SNS delivery to a Lambda function, as the SNS notifier publishes the alert. */
const deliveryOf = (alert: Alert) => ({
  Records: [
    {
      EventSource: 'aws:sns',
      Sns: {
        Type: 'Notification',
        Subject: alertSubject(alert),
        Message: alertMessage(alert),
        MessageAttributes: { severity: { Type: 'String', Value: alert.severity }, run_id: { Type: 'String', Value: 'run-42' } },
      },
    },
  ],
});

/** A fake fetch that records every call and answers with `status`. */
function fakeFetch(status = 200, answer = 'ok') {
  const calls: { url: string; body: unknown; headers: Record<string, string> }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, body: JSON.parse(init.body), headers: init.headers });
    return { ok: status >= 200 && status < 300, status, text: async () => answer };
  };
  return { fetch, calls };
}

describe('the Slack message of an alert', () => {
  it('is the e-mail subject in bold with the body in a code block, title once, Slack characters escaped', () => {
    // Act
    const { text } = slackPayload({ subject: alertSubject(heldAlert), message: alertMessage(heldAlert), severity: 'fail' });
    // Assess
    expect(text).toBe(
      ':no_entry: *[cohort-refresh] FAIL: cohort refresh 2024-06-01: 1 held*\n```\n' +
        'Held (current unchanged):\n  power_users v7: fail max_change_pct: size fell 45% (limit 30%) &lt;see runbook&gt; &amp; retry\n\n' +
        'severity: fail\ncohorts: power_users\nrun: run-42\n```',
    );
  });

  it('turns a CloudWatch alarm notification into readable lines', () => {
    const alarm = JSON.stringify({
      AlarmName: 'CohortRefreshStack-ExecutionsFailedAlarm-1AB',
      AlarmDescription: "A cohort refresh execution failed. See the state machine's executions and its log group.",
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was >= the threshold (1.0).',
      StateChangeTime: '2024-06-01T06:05:00.000+0000',
      Region: 'EU (Frankfurt)',
    });

    const { text } = slackPayload({ subject: 'ALARM: "CohortRefreshStack-ExecutionsFailedAlarm-1AB" in EU (Frankfurt)', message: alarm });

    expect(text.split('\n')).toEqual([
      ':rotating_light: *ALARM: CohortRefreshStack-ExecutionsFailedAlarm-1AB*',
      '```',
      "A cohort refresh execution failed. See the state machine's executions and its log group.",
      'Threshold Crossed: 1 datapoint [1.0] was &gt;= the threshold (1.0).',
      'EU (Frankfurt), 2024-06-01T06:05:00.000+0000',
      '```',
    ]);
  });

  it('cuts a very long body, and keeps a code fence in the text from closing the block', () => {
    const { text } = slackPayload({
      subject: 'long',
      message: `long\n\n${'```'}${'x'.repeat(MAX_SLACK_BODY_CHARS * 2)}`,
      severity: 'warn',
    });

    expect(text.length).toBeLessThan(MAX_SLACK_BODY_CHARS + 200);
    expect(text).toContain('(cut; the e-mail alert has the full text)');
    expect(text.match(/```/g)).toHaveLength(2);
  });

  it('keeps a first line that only happens to end the subject', () => {
    expect(slackPayload({ subject: 'Nightly export', message: 'export\nfinished' }).text).toBe(
      ':bell: *Nightly export*\n```\nexport\nfinished\n```',
    );
  });

  it('uses the first line as heading when the publisher set no subject', () => {
    expect(slackPayload({ subject: null, message: 'plain message\nsecond line' }).text).toBe(
      ':bell: *plain message*\n```\nsecond line\n```',
    );
  });
});

describe('forwarding alerts to Slack', () => {
  it('posts each message of the delivery to the webhook as JSON, without unfurling links', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch();
    // Act
    const result = await forwardToSlack(deliveryOf(heldAlert), { webhookUrl: async () => WEBHOOK, fetch });
    // Assess
    expect(result).toEqual({ posted: 1 });
    expect(calls).toEqual([
      {
        url: WEBHOOK,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: { text: expect.stringMatching(/^:no_entry: \*\[cohort-refresh\] FAIL: /), unfurl_links: false, unfurl_media: false },
      },
    ]);
  });

  it("fails with Slack's answer, but never the webhook URL, when Slack refuses the post", async () => {
    const { fetch } = fakeFetch(404, 'no_service');

    const forwarding = forwardToSlack(deliveryOf(heldAlert), { webhookUrl: async () => WEBHOOK, fetch });

    await expect(forwarding).rejects.toBeInstanceOf(SlackWebhookError);
    await expect(forwarding).rejects.toMatchObject({
      status: 404,
      answer: 'no_service',
      message: 'Slack answered the webhook post with HTTP 404: no_service',
    });
    await expect(forwarding).rejects.not.toMatchObject({ message: expect.stringContaining('secret-token') });
  });

  it('rejects an event that is not an SNS delivery without reading the secret', async () => {
    const webhookUrl = vi.fn(async () => WEBHOOK);

    await expect(forwardToSlack({ Records: [] }, { webhookUrl, fetch: fakeFetch().fetch })).rejects.toMatchObject({
      name: 'InvalidEventError',
      step: 'SlackAlerts',
    });
    expect(webhookUrl).not.toHaveBeenCalled();
  });
});

describe('the webhook URL from Secrets Manager', () => {
  const secrets = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-central-1' });

  beforeEach(() => secrets.reset());

  it('is read once and reused until it is five minutes old', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: `${WEBHOOK}\n` });
    let now = 0;
    const url = secretWebhookUrl(client, SECRET, { now: () => now });
    // Act
    const first = await url();
    now = 4 * 60_000;
    await url();
    now = 5 * 60_000;
    await url();
    // Assess
    expect(first).toBe(WEBHOOK);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET });
  });

  it('accepts JSON with a url key', () => {
    expect(webhookUrlOf(SECRET, JSON.stringify({ url: WEBHOOK }))).toBe(WEBHOOK);
  });

  it.each([['http://hooks.slack.com/services/x'], ['not a url'], ['{"webhook": "https://x"}'], [''], [undefined]])(
    'refuses %j without showing the value',
    (value) => {
      const read = () => webhookUrlOf(SECRET, value);

      expect(read).toThrow(InvalidWebhookSecretError);
      expect(read).toThrow(`secret ${SECRET} must hold a Slack incoming-webhook URL`);
      if (value) expect(read).not.toThrow(value);
    },
  );

  it('surfaces throttling as ThrottledError and does not keep a failed read', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(serviceError({ name: 'ThrottlingException', status: 400 }))
      .resolves({ SecretString: WEBHOOK });
    const url = secretWebhookUrl(client, SECRET);

    await expect(url()).rejects.toMatchObject({ name: 'ThrottledError', operation: 'SecretsManager.GetSecretValue' });
    await expect(url()).resolves.toBe(WEBHOOK);
  });
});

describe('the SlackAlerts Lambda handler', () => {
  const secrets = mockClient(SecretsManagerClient);
  const fake = fakeFetch();
  let handler: (event: unknown) => Promise<unknown>;

  beforeAll(async () => {
    vi.stubEnv('SLACK_WEBHOOK_SECRET', SECRET);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('AWS_REGION', 'eu-central-1');
    vi.stubGlobal('fetch', fake.fetch);
    handler = (await import('../../functions/slack-alerts.ts')).handler;
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
  });

  it('reads the webhook from the secret it is configured with and posts the alert', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: WEBHOOK });
    // Act
    const result = await handler(deliveryOf({ ...heldAlert, severity: 'warn', title: 'cohort refresh: 2 with warnings' }));
    // Assess
    expect(result).toEqual({ posted: 1 });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      url: WEBHOOK,
      body: { text: expect.stringContaining(':warning: *[cohort-refresh] WARN: cohort refresh: 2 with warnings*') },
    });
  });
});

describe('the SlackAlerts Lambda handler without its configuration', () => {
  let handler: (event: unknown) => Promise<unknown>;

  beforeAll(async () => {
    vi.resetModules();
    vi.stubEnv('SLACK_WEBHOOK_SECRET', '');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('AWS_REGION', 'eu-central-1');
    handler = (await import('../../functions/slack-alerts.ts')).handler;
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('fails with an InvalidConfigError naming the variable and what it must hold', async () => {
    // Act
    const result = handler(deliveryOf(heldAlert));
    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'InvalidConfigError',
      message: 'SLACK_WEBHOOK_SECRET: must name the webhook secret (name or ARN)',
    });
  });
});
