import { cutForChat, EMOJI } from '../notify/slack-message.ts';
import type { Alert } from '../ports.ts';

/**
 * An alert as an AWS Chatbot (Amazon Q Developer in chat applications) custom notification: the
 * only message format Chatbot posts besides AWS service events; plain text it drops. Title is the
 * e-mail subject (`alertSubject`), description the alert body in a code block, keywords its
 * severity and cohorts.
 */
export function chatbotNotification(alert: Alert, subject: string): string {
  const facts = [alert.step ? `step: ${alert.step}` : undefined, alert.run_id ? `run: ${alert.run_id}` : undefined].filter(Boolean);
  const body = [alert.body.trimEnd(), facts.join('\n')].filter((part) => part !== '').join('\n\n');
  return JSON.stringify({
    version: '1.0',
    source: 'custom',
    ...(alert.run_id ? { id: `${alert.run_id}:${alert.severity}` } : {}),
    content: {
      textType: 'client-markdown',
      title: `${EMOJI[alert.severity] ?? ':bell:'} ${subject}`,
      ...(body === '' ? {} : { description: `\`\`\`\n${cutForChat(body).replace(/```/g, "'''")}\n\`\`\`` }),
      keywords: [alert.severity, ...alert.cohorts.slice(0, 4)],
    },
    metadata: {
      summary: alert.title,
      eventType: 'CohortRefreshAlert',
      additionalContext: {
        severity: alert.severity,
        ...(alert.run_id ? { run_id: alert.run_id } : {}),
        ...(alert.step ? { step: alert.step } : {}),
      },
    },
  });
}
