/**
 * `npx tsx bench/source-digests-bench.ts`: what a realtime tick's source checks read from the kept
 * parts and hold in memory, on a synthetic window of `BENCH_DIGESTS_PER_DAY` event digests per
 * partition (default 100,000: 3.1M in the window's 31), over a folder standing for the snapshots
 * bucket. No engine runs: the parts' statement is answered with those digests, the logic measured
 * is KeptSourceChecks' own (the same in both worlds).
 *
 * Each phase runs in its own process, its peak RSS and heap reported by that process:
 * - `first`: the first tick, computing every partition (the digests of the whole window in memory);
 * - `tick`: a later tick after `BENCH_NEW_DIGESTS` new events (default 1,000) landed in today's
 *   partition: the bytes it reads from the kept parts (whole objects and ranges) and its peak.
 * `BENCH_SOURCE=/work/main` measures another checkout's shared/ the same way (before and after).
 * `BENCH_STATE=DIR` keeps the kept parts in DIR (not removed); `BENCH_FROM_TICK=N` (N > 3) then runs
 * ticks N and N+1 only, over a DIR whose ticks went up to N-1: another checkout's ticks over the same
 * parts without computing them again (minutes at 10M digests a partition). `BENCH_LATENCY_MS=30` makes
 * every GET and ranged GET of the kept folder answer that much later (S3's round trip, 20-50 ms): what
 * reading parts one after another costs in wall time there.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PER_DAY = Number(process.env.BENCH_DIGESTS_PER_DAY ?? 100_000);
const NEW = Number(process.env.BENCH_NEW_DIGESTS ?? 1000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const SOURCE = resolve(process.env.BENCH_SOURCE ?? join(import.meta.dirname, '..'));
const AS_OF = new Date('2026-12-05T12:00:00.000Z');
const DAY_MS = 86_400_000;

/**
 * A partition's digests as strings, `size` at a time, the first `count` of its own sequence (xorshift64
 * seeded by its date): today's grow by a prefix. Made as read, as an engine's result batches are: the
 * run holds one batch of them, not the partition's.
 */
function* digestBatches(partition: string, count: number, size: number): Generator<string[]> {
  let x = BigInt(Date.parse(partition)) | 1n;
  for (let at = 0; at < count; at += size) {
    const batch: string[] = [];
    for (let i = at; i < Math.min(at + size, count); i += 1) {
      x ^= BigInt.asUintN(64, x << 13n);
      x ^= x >> 7n;
      x ^= BigInt.asUintN(64, x << 17n);
      batch.push(String(x));
    }
    yield batch;
  }
}

/** One phase in this process: a tick of the checks over the kept folder, today's partition holding `today` digests. */
async function phase(state: string, today: number): Promise<void> {
  const { KeptSourceChecks } = await import(join(SOURCE, 'shared/checks/kept-source-checks.ts'));
  const { FsBlobStore } = await import(join(SOURCE, 'shared/local/fs-blob-store.ts'));
  const { duckdbDialect } = await import(join(SOURCE, 'shared/compiler/duckdb-dialect.ts'));
  const { PARTS_COLUMNS } = await import(join(SOURCE, 'shared/checks/source-query.ts'));
  const { sourceCheckWindow } = await import(join(SOURCE, 'shared/checks/source-window.ts'));
  const todayDate = AS_OF.toISOString().slice(0, 10);
  const { from, to } = sourceCheckWindow(AS_OF).partitions as { from: string; to: string };
  const partitions: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) partitions.push(new Date(t).toISOString().slice(0, 10));
  const count = (p: string) => (p === todayDate ? today : p > todayDate ? 0 : PER_DAY);
  const blobs = new FsBlobStore(state);
  const read = { bytes: 0, gets: 0 };
  const later = () => (LATENCY_MS > 0 ? new Promise((resolve) => setTimeout(resolve, LATENCY_MS)) : undefined);
  const counted = Object.assign(Object.create(blobs), {
    get: async (key: string) => {
      await later();
      const bytes = await blobs.get(key);
      read.bytes += bytes?.byteLength ?? 0;
      read.gets += 1;
      if (process.env.BENCH_TRACE) console.error('get', key, bytes?.byteLength);
      return bytes;
    },
  });
  const readRange = async (key: string, start: number, end: number) => {
    await later();
    const bytes = await blobs.getRange(key, start, end);
    read.bytes += bytes?.byteLength ?? 0;
    read.gets += 1;
    if (process.env.BENCH_TRACE) console.error('range', key, start, end);
    return bytes;
  };
  const lakeRow = { grain: 'lake', source: null, event_day: null, row_count: 1 };
  const checks = new KeptSourceChecks({
    engine: { name: 'bench', dialect: duckdbDialect, rows: async () => [] },
    blobs: counted,
    prefix: 'checks/parts/',
    remove: async () => {},
    lake: async () => ({
      events: partitions
        .filter((p) => count(p) > 0)
        .map((p) => ({ key: `events/dt=${p}/f.jsonl`, size: count(p) * 35, version: String(count(p)), dt: p })),
      identities: [],
      relations: { events: 'events', identities: 'identities', lists: 'lists' },
      eventsOf: async () => 'events',
    }),
    identity: async () => ({ keys: { relation: 'identity_keys', keyOf: (c: string) => c }, rows: [] }),
    eventKey: (source: string, eventId: string) => `hash(${source}, ${eventId})`,
    partsRows: async function* (sql: string) {
      const asked = (/dt IN \(([^)]*)\)/.exec(sql)?.[1] ?? '').match(/\d{4}-\d{2}-\d{2}/g) ?? [];
      for (const p of asked) {
        const newest = p === todayDate ? AS_OF.getTime() - 60_000 : Date.parse(p) + DAY_MS - 1;
        const head = [
          { kind: 'rows', part: p, ...lakeRow },
          { kind: 'span', part: p, newest_ms: newest, oldest_ms: Date.parse(p) },
        ];
        yield {
          columns: PARTS_COLUMNS,
          rowCount: head.length,
          value: (r: number, c: number) => (head[r] as Record<string, unknown>)[PARTS_COLUMNS[c]] ?? null,
        };
        for (const batch of digestBatches(p, count(p), 10_000)) {
          const kindAt = PARTS_COLUMNS.indexOf('kind');
          const keyAt = PARTS_COLUMNS.indexOf('key');
          const partAt = PARTS_COLUMNS.indexOf('part');
          yield {
            columns: PARTS_COLUMNS,
            rowCount: batch.length,
            value: (r: number, c: number) => (c === kindAt ? 'key' : c === keyAt ? batch[r] : c === partAt ? p : null),
          };
        }
      }
    },
    readRange,
    maxWindowBytes: Number.POSITIVE_INFINITY,
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const rows = await checks.rows(AS_OF);
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const lake = rows.find((r: { grain: string }) => r.grain === 'lake');
  const heap = process.memoryUsage();
  console.log(
    JSON.stringify({
      readMB: +(read.bytes / 1e6).toFixed(2),
      reads: read.gets,
      ms: Math.round(ms),
      cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2),
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      heapUsedMB: Math.round(heap.heapUsed / 1e6),
      arrayBuffersMB: Math.round(heap.arrayBuffers / 1e6),
      added: lake?.row_count ?? 'read at once',
    }),
  );
}

async function main(): Promise<void> {
  const [, , mode, state, today] = process.argv;
  if (mode === 'phase') return phase(state as string, Number(today));
  const kept = process.env.BENCH_STATE;
  const dir = kept ?? (await mkdtemp(join(tmpdir(), 'source-digests-bench-')));
  const from = Number(process.env.BENCH_FROM_TICK ?? 1);
  try {
    const run = (label: string, todayCount: number) => {
      const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, 'phase', dir, String(todayCount)], {
        encoding: 'utf8',
      });
      console.log(`${label}: ${out.trim()}`);
    };
    console.log(`source: ${SOURCE}; ${PER_DAY} digests a partition (30 + today's), ${NEW} new a tick`);
    if (from <= 1) run('first tick (every partition computed)', PER_DAY / 10);
    for (let tick = Math.max(2, from); tick <= Math.max(2, from) + 1; tick += 1)
      run(`tick ${tick} (today grew)`, PER_DAY / 10 + (tick - 1) * NEW);
  } finally {
    if (kept === undefined) await rm(dir, { recursive: true, force: true });
  }
}

await main();
