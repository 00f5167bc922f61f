import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../shared/cloud/athena-engine.ts';
import { oneListing } from '../../shared/cloud/athena-listing.ts';
import { AthenaQueryRunner } from '../../shared/cloud/athena-query.ts';
import './support.ts';

const s3 = mockClient(S3Client);
const engine = new AthenaEngine({
  runner: new AthenaQueryRunner(new AthenaClient({ region: 'eu-central-1' }), { workGroup: 'cohort-refresh', database: 'cohort_refresh' }),
  s3: new S3Client({ region: 'eu-central-1' }),
  glue: new GlueClient({ region: 'eu-central-1' }),
  database: 'cohort_refresh',
  lakeBucket: 'lake-bucket',
  resultsBucket: 'results-bucket',
});

describe('one listing of the lake per Tiles invocation', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    s3.on(ListObjectsV2Command, { Prefix: 'identities/' }).resolves({});
    s3.on(ListObjectsV2Command, { Prefix: 'events-errors/' }).resolves({});
  });

  it('gives the tiled query and the tile store the same listing, listed once, and a new invocation a new one', async () => {
    s3.on(ListObjectsV2Command, { Prefix: 'events/' })
      .resolvesOnce({ Contents: [{ Key: 'events/dt=2026-03-01/a.jsonl', ETag: '"a1"', Size: 5 }] })
      .resolves({ Contents: [{ Key: 'events/dt=2026-03-01/a.jsonl', ETag: '"a2"', Size: 6 }] });

    const first = oneListing(engine);
    const view = await first.engine.lake();
    const listed = await first.lake();
    expect(listed.view).toBe(view);
    expect(listed.events.map((o) => o.etag)).toEqual(['"a1"']);
    // events/, identities/ and the refused records' events-errors/
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 3);

    // The next invocation sees the rewritten file, and reads the manifests of its own listing.
    const second = oneListing(engine);
    expect((await second.lake()).events.map((o) => o.etag)).toEqual(['"a2"']);
    expect((await second.engine.lake()).relations.events).not.toBe(view.relations.events);
    expect(second.engine.name).toBe(engine.name);
  });
});
