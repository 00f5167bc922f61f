import { describe, expect, it } from 'vitest';
import { DigestList, keysOfText, keysText } from '../../shared/checks/source-check-parts.ts';

describe('the event digests of a part as read', () => {
  it('hold every 64-bit value pushed past their first capacity, sorted, and survive the kept text', () => {
    const list = new DigestList();
    // More values than the first 1,024 slots, spread over the whole unsigned range (high bit set or not).
    const values = Array.from({ length: 3000 }, (_, i) => BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n));
    for (const value of values) list.push(value);
    const sorted = list.sorted();
    expect([...sorted]).toEqual([...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect([...(keysOfText(keysText(sorted)) ?? [])]).toEqual([...sorted]);
    expect(new DigestList().sorted()).toHaveLength(0);
  });
});
