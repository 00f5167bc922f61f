import { describe, expect, it } from 'vitest';
import { type TileFingerprint, tilePartitions, tileStatus } from '../../shared/tiles/fingerprint.ts';

const tile: TileFingerprint = {
  day: '2024-03-01',
  inputs: [{ path: 'dt=2024-03-01/a.jsonl', size: 10, version: '2024-03-02T00:00:00.000Z' }],
  measures: ['m1', 'm2'],
  contested: 'x',
};

describe('tile fingerprints', () => {
  it('reads the partitions of the day and one day each side, across a month end', () => {
    expect(tilePartitions('2024-03-01')).toEqual(['2024-02-29', '2024-03-01', '2024-03-02']);
  });

  it('says why a tile is missing or stale', () => {
    expect(tileStatus(undefined, tile)).toEqual({ status: 'missing' });
    expect(tileStatus(tile, { ...tile, measures: ['m1'] })).toEqual({ status: 'fresh' });
    expect(tileStatus(tile, { ...tile, measures: ['m1', 'm3'] })).toEqual({ status: 'stale', reason: 'measures' });
    const rewritten = { ...tile, inputs: [{ ...tile.inputs[0], size: 11 } as TileFingerprint['inputs'][number]] };
    expect(tileStatus(tile, rewritten)).toEqual({ status: 'stale', reason: 'inputs' });
    expect(tileStatus(tile, { ...tile, inputs: [] })).toEqual({ status: 'stale', reason: 'inputs' });
    expect(tileStatus(tile, { ...tile, contested: 'y' })).toEqual({ status: 'stale', reason: 'contested' });
  });
});
