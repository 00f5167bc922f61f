import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { readStackConfig } from '../../infra/stack-config.ts';

/**
 * Pins the deployable stack's resources and outputs: one line per resource (logical id, type and a
 * hash of everything but its metadata) and per output. A resource added, removed or renamed (a new
 * logical id replaces it on deploy) or any property changed fails here. Lambda asset keys are
 * scrubbed, so a change to handler code alone does not. After an intended change, run
 * `UPDATE_GOLDEN=1 npx vitest run test/infra/template-resources.test.ts` and review the diff.
 */
const GOLDEN = join(import.meta.dirname, 'golden', 'template-resources.txt');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The contexts the stack is synthesized with: the defaults, every option, and the other branches. */
const CONTEXTS: Readonly<Record<string, Record<string, unknown>>> = {
  default: {},
  'every option': {
    alertEmails: 'a@example.com,b@example.com',
    lakeBucketName: 'company-event-lake',
    lakePrefix: 'raw/',
    retentionDays: '30',
    schedules: '{"daily":"cron(30 4 * * ? *)","hourly":"rate(2 hours)"}',
    slackWorkspaceId: 'T0123ABCD',
    slackChannelId: 'C0456EFGH',
    slackWebhookSecret: 'cohort-refresh/slack-webhook',
  },
  'no dashboard, webhook secret by ARN': {
    dashboard: 'false',
    slackWebhookSecret: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:hook-AbCdEf',
  },
};

/** JSON with object keys sorted, so the hash does not depend on the order CDK adds properties in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Asset object keys are content hashes of the bundles: they change with any handler code. */
const ASSET_KEY = /\b[0-9a-f]{64}\.(zip|json)\b/g;

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonical(value).replace(ASSET_KEY, '<asset>.$1')).digest('hex').slice(0, 16);
}

/** The pinned lines of one synthesized stack, sorted. */
function linesOf(context: Record<string, unknown>): string[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const template = Template.fromStack(new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) })).toJSON();
  const resources = Object.entries(template.Resources as Record<string, { Type: string; Metadata?: unknown }>).map(
    ([logicalId, { Metadata: _metadata, ...resource }]) => `${logicalId} ${resource.Type} ${hashOf(resource)}`,
  );
  const outputs = Object.entries((template.Outputs ?? {}) as Record<string, unknown>).map(
    ([name, output]) => `${name} Output ${hashOf(output)}`,
  );
  return [...resources, ...outputs].sort();
}

function render(sections: Record<string, string[]>): string {
  return `${Object.entries(sections)
    .map(([name, lines]) => [`# ${name}`, ...lines].join('\n'))
    .join('\n\n')}\n`;
}

function parse(text: string): Record<string, string[]> {
  const sections: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) sections[line.slice(2)] = current = [];
    else if (line.trim() !== '') current?.push(line);
  }
  return sections;
}

describe('the synthesized template', () => {
  const sections = Object.fromEntries(Object.entries(CONTEXTS).map(([name, context]) => [name, linesOf(context)]));
  if (UPDATE) {
    mkdirSync(join(import.meta.dirname, 'golden'), { recursive: true });
    writeFileSync(GOLDEN, render(sections));
  }

  it.each(Object.keys(CONTEXTS))('keeps every resource and output of the stack with %s as pinned', (name) => {
    expect(existsSync(GOLDEN), `missing ${GOLDEN}: run UPDATE_GOLDEN=1 npx vitest run test/infra/template-resources.test.ts`).toBe(true);
    const pinned = parse(readFileSync(GOLDEN, 'utf8'));
    expect(sections[name]).toEqual(pinned[name]);
  });

  it('ignores asset keys only: the hash of a resource changes with any of its properties', () => {
    const code = { S3Bucket: 'assets', S3Key: `${'a'.repeat(64)}.zip` };
    const otherAsset = { S3Bucket: 'assets', S3Key: `${'b'.repeat(64)}.zip` };

    expect(hashOf({ Code: code, MemorySize: 512 })).toBe(hashOf({ Code: otherAsset, MemorySize: 512 }));
    expect(hashOf({ Code: code, MemorySize: 512 })).not.toBe(hashOf({ Code: code, MemorySize: 1024 }));
    expect(hashOf({ A: 1, B: [1, 2] })).toBe(hashOf({ B: [1, 2], A: 1 }));
    expect(hashOf({ B: [1, 2] })).not.toBe(hashOf({ B: [2, 1] }));
  });
});
