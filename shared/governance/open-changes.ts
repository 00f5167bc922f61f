import type { CohortDefinition } from '../language/ast.ts';
import type { CatalogStore } from './catalog-store.ts';
import { compareCatalogs, publishedCatalog } from './compare.ts';
import type { ApprovalDecision, DefinitionVersion, GuardrailRecord } from './records.ts';

/** A refused or waiting change that is still in force: what a refresh recorded and nothing has ended since. */
export interface OpenChange {
  /** The newest record of the change (a rejected change's refusal, once a refresh saw the rejection). */
  readonly record: GuardrailRecord;
  /** The accepted version a refresh keeps while the change is open; null when there is none. */
  readonly published: DefinitionVersion | null;
  /** The rejection that refuses it, when a refusal comes from one. */
  readonly decision: ApprovalDecision | null;
}

/**
 * The refused and waiting changes that are still open, by the rules the refresh itself applies
 * (`governCatalog`): a change is the working definition against the latest accepted version
 * (`compareCatalogs`), so a record is open only while the working definition is still the one it
 * recorded (same hash, or the file still gone for a refused removal) and differs from the latest
 * accepted version: accepting it, or accepting a later edit, ends it. A waiting change is also
 * ended by a decision on its hash (approved: the next refresh accepts it; rejected: the next
 * refresh refuses it and records that). Reads the catalog only; `working` is the definitions
 * folder (the definitions bucket in the cloud). Ordered by cohort.
 */
export async function openChanges(working: readonly CohortDefinition[], catalog: CatalogStore): Promise<OpenChange[]> {
  const published = publishedCatalog(await catalog.latest());
  const open: OpenChange[] = [];
  const moved = compareCatalogs(working, published).filter((c) => c.kind !== 'unchanged' && c.kind !== 'added');
  for (const change of moved) {
    const hash = change.after?.hash ?? null;
    const entry = published.entries.get(change.cohort) ?? null;
    // Not filtered by time: a refresh records a change once per hash, so a definition that comes back refused or waiting keeps its first record.
    const records = (await catalog.records(change.cohort)).filter((r) => r.hash === hash);
    // A refusal recorded for the same definition outranks its earlier wait (a rejection turns one into the other).
    const record = records.findLast((r) => r.outcome === 'refused') ?? records.findLast((r) => r.outcome === 'pending');
    if (!record) continue;
    const decision = hash === null ? undefined : await catalog.decision(change.cohort, hash);
    if (record.outcome === 'pending' && decision) continue;
    open.push({ record, published: entry, decision: decision?.decision === 'rejected' ? decision : null });
  }
  return open.sort((a, b) => (a.record.cohort < b.record.cohort ? -1 : a.record.cohort > b.record.cohort ? 1 : 0));
}
