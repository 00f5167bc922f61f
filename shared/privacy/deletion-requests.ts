import { forgetPerson, type ErasureOutcome } from './erase.ts';
import type { PrivacyPorts } from './ports.ts';
import { DELETION_REQUESTS_PREFIX } from '../bucket-layout.ts';

/** A deletion request object that names nobody or cannot be read. */
export class InvalidDeletionRequestError extends Error {
  override readonly name = 'InvalidDeletionRequestError';
}

/** What a processed request is replaced with: the ids are gone, the records are named by hash. */
interface ProcessedRequest {
  readonly processed_at: string;
  readonly erasure_records: readonly string[];
}

/**
 * The ids a request object names: JSON `{"person_id": "..."}` or `{"person_ids": [...]}`, or text
 * with one id a line. Undefined for a request already processed.
 */
export function requestedIds(key: string, text: string): string[] | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new InvalidDeletionRequestError(`${key}: not valid JSON; write {"person_id": "..."} or one person id a line`);
    }
    if (typeof body.processed_at === 'string') return undefined;
    const ids = [
      ...(typeof body.person_id === 'string' ? [body.person_id] : []),
      ...(Array.isArray(body.person_ids) ? body.person_ids : []),
    ];
    if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id.trim() === '')) {
      throw new InvalidDeletionRequestError(
        `${key}: a deletion request needs "person_id" (a non-empty string) or "person_ids" (a list of them)`,
      );
    }
    return ids as string[];
  }
  const ids = trimmed
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (ids.length === 0) throw new InvalidDeletionRequestError(`${key}: names no person (one person id a line, or {"person_id": "..."})`);
  return ids;
}

/**
 * Processes every pending deletion request object under `privacy/deletion-requests/` (run at the
 * start of every refresh): forgets each person it names, then replaces the object with a note of
 * when and which erasure records (by hash), so the id no longer sits in the request either.
 * `mayErase` is asked once, at the first pending request: when it says no, nothing is processed and
 * every request waits for a later refresh.
 */
export async function processDeletionRequests(ports: PrivacyPorts, mayErase?: () => Promise<boolean>): Promise<ErasureOutcome[]> {
  const outcomes: ErasureOutcome[] = [];
  let allowed: boolean | undefined;
  for (const key of await ports.blobs.list(DELETION_REQUESTS_PREFIX)) {
    const bytes = await ports.blobs.get(key);
    if (!bytes) continue;
    const ids = requestedIds(key, Buffer.from(bytes).toString('utf8'));
    if (ids === undefined) continue;
    allowed ??= mayErase === undefined || (await mayErase());
    if (!allowed) return outcomes;
    const done: ErasureOutcome[] = [];
    for (const id of ids) done.push(await forgetPerson(id, ports, `deletion-request:${key}`));
    const processed: ProcessedRequest = {
      processed_at: (ports.now ?? (() => new Date()))().toISOString(),
      erasure_records: done.map((outcome) => outcome.record),
    };
    await ports.blobs.put(key, `${JSON.stringify(processed, null, 2)}\n`);
    outcomes.push(...done);
  }
  return outcomes;
}
