import { filterOf, filterRecord, filterText } from '../../shared/checks/digest-filter.ts';
import { type DigestsRecord, digestsRecord, digestsText } from '../../shared/checks/part-digests.ts';

/** `count` distinct digests spread over the whole unsigned range, sorted, from a seed (xorshift64). */
export function digests(count: number, seed: bigint): BigUint64Array {
  const values = new Set<bigint>();
  let x = seed | 1n;
  while (values.size < count) {
    x ^= BigInt.asUintN(64, x << 13n);
    x ^= x >> 7n;
    x ^= BigInt.asUintN(64, x << 17n);
    values.add(x);
  }
  return BigUint64Array.from(values).sort();
}

/** A folder of kept objects in memory, counting the bytes read (whole and by ranges). */
export function store() {
  const objects = new Map<string, Uint8Array>();
  const counted = { bytes: 0, reads: 0 };
  return {
    objects,
    counted,
    /** Keeps sorted digests under `key` (and, `filtered`, their filter under `key.filter`, as a part is written). */
    keep(key: string, sorted: BigUint64Array, filtered = false): DigestsRecord {
      const text = digestsText(sorted);
      objects.set(key, Buffer.from(text));
      const record = digestsRecord(key, sorted, text);
      if (!filtered) return record;
      const filter = filterOf(sorted);
      const body = filterText(filter);
      objects.set(`${key}.filter`, Buffer.from(body));
      return { ...record, filter: filterRecord(`${key}.filter`, filter, body) };
    },
    get: async (key: string) => {
      const bytes = objects.get(key);
      counted.bytes += bytes?.byteLength ?? 0;
      counted.reads += 1;
      return bytes;
    },
    read: async (key: string, start: number, end: number) => {
      const bytes = objects.get(key);
      if (bytes === undefined || bytes.byteLength < end) return undefined;
      counted.bytes += end - start;
      counted.reads += 1;
      return bytes.subarray(start, end);
    },
  };
}
