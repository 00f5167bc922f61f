import { issueLines } from '../language/zod-issues.ts';
import { BlobExistsError, type BlobStore } from '../ports.ts';
import { type ApprovalDecision, approvalDecisionSchema, type DefinitionVersion, type GuardrailRecord } from './records.ts';
import { CATALOG_PREFIX } from '../bucket-layout.ts';

/*
 * Keys, under `catalog/` of the state folder (locally) or of the definitions bucket (cloud):
 *   catalog/cohort=<id>/version=<N>.json          accepted definition versions (DefinitionVersion)
 *   catalog/decisions/cohort=<id>/<hash>.json     approvals and rejections (ApprovalDecision)
 *   catalog/guardrails/cohort=<id>/<outcome>-<hash>.json   refused and waiting changes (GuardrailRecord)
 *   catalog/announcing/run=<run id>/pending.json  the versions a run is about to accept (written before them)
 *   catalog/announcing/run=<run id>/sent.json     written once their `Definition Accepted` events were sent
 * Every object is created once and never rewritten.
 */
const ROOT = CATALOG_PREFIX;
const VERSION_KEY = /^catalog\/cohort=([^/]+)\/version=(\d+)\.json$/;
const versionKey = (cohort: string, version: number) => `${ROOT}cohort=${cohort}/version=${version}.json`;
const decisionKey = (cohort: string, hash: string) => `${ROOT}decisions/cohort=${cohort}/${hash}.json`;
const guardrailPrefix = (cohort: string) => `${ROOT}guardrails/cohort=${cohort}/`;
const ANNOUNCING_KEY = /^catalog\/announcing\/run=([^/]+)\/(pending|sent)\.json$/;
const announcingKey = (runId: string, what: 'pending' | 'sent') => `${ROOT}announcing/run=${runId}/${what}.json`;

/** Catalog versions a run accepted whose `Definition Accepted` events were never recorded as sent. */
export interface UnsentAnnouncements {
  readonly run_id: string;
  readonly versions: readonly { readonly cohort: string; readonly version: number }[];
}
const guardrailKey = (record: GuardrailRecord) => `${guardrailPrefix(record.cohort)}${record.outcome}-${record.hash ?? 'removed'}.json`;

/** A catalog version with this number exists and holds another definition. */
export class CatalogConflictError extends Error {
  override readonly name = 'CatalogConflictError';
}

/** An approval object that does not hold a valid decision (for instance one written by hand). */
export class InvalidDecisionError extends Error {
  override readonly name = 'InvalidDecisionError';
}

/** A change was already approved or rejected: a decision is never rewritten. */
export class DecisionExistsError extends Error {
  override readonly name = 'DecisionExistsError';
}

/**
 * The published catalog and its audit trail over any blob store: every accepted definition
 * version of every cohort, the approvals and rejections, the refused and waiting changes.
 */
export class CatalogStore {
  constructor(private readonly blobs: BlobStore) {}

  /** The latest accepted version of every cohort ever accepted (removals included), by id. */
  async latest(): Promise<Map<string, DefinitionVersion>> {
    const newest = new Map<string, number>();
    for (const key of await this.blobs.list(`${ROOT}cohort=`)) {
      const match = VERSION_KEY.exec(key);
      if (!match) continue;
      const [, cohort, version] = match as unknown as [string, string, string];
      newest.set(cohort, Math.max(newest.get(cohort) ?? 0, Number(version)));
    }
    const entries = await Promise.all([...newest].map(async ([cohort, version]) => this.version(cohort, version)));
    return new Map(entries.filter((e): e is DefinitionVersion => e !== undefined).map((e) => [e.cohort, e]));
  }

  /** Every accepted version of a cohort, ascending. */
  async versions(cohort: string): Promise<DefinitionVersion[]> {
    const numbers = (await this.blobs.list(`${ROOT}cohort=${cohort}/`))
      .map((key) => VERSION_KEY.exec(key))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === cohort)
      .map((m) => Number(m[2]))
      .sort((a, b) => a - b);
    const found = await Promise.all(numbers.map((n) => this.version(cohort, n)));
    return found.filter((e): e is DefinitionVersion => e !== undefined);
  }

  async version(cohort: string, version: number): Promise<DefinitionVersion | undefined> {
    return this.read<DefinitionVersion>(versionKey(cohort, version));
  }

  /**
   * Records an accepted version. Accepting the same definition under the same number again (a
   * retried step) is a no-op; another definition under a taken number is a CatalogConflictError.
   */
  async accept(entry: DefinitionVersion): Promise<void> {
    const key = versionKey(entry.cohort, entry.version);
    try {
      await this.blobs.create(key, json(entry));
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
      const existing = await this.read<DefinitionVersion>(key);
      if (existing?.hash !== entry.hash || existing.change !== entry.change) {
        throw new CatalogConflictError(
          `definition version ${entry.version} of "${entry.cohort}" was accepted meanwhile by run ${existing?.run_id}: plan again`,
        );
      }
    }
  }

  /**
   * The approval or rejection of one definition of a cohort, if any. In the cloud an approver may
   * write the object by hand, so it is checked: a malformed one is an InvalidDecisionError.
   */
  async decision(cohort: string, hash: string): Promise<ApprovalDecision | undefined> {
    const key = decisionKey(cohort, hash);
    const found = await this.read<unknown>(key);
    if (found === undefined) return undefined;
    const parsed = approvalDecisionSchema.safeParse(found);
    if (!parsed.success || parsed.data.cohort !== cohort || parsed.data.hash !== hash) {
      const problems = parsed.success ? ['cohort and hash must be those of its key'] : issueLines(parsed.error);
      throw new InvalidDecisionError(`${this.blobs.locate(key)} is not a valid decision: ${problems.join('; ')}`);
    }
    return parsed.data;
  }

  /** Records an approval or a rejection; a second decision on the same definition is refused. */
  async decide(decision: ApprovalDecision): Promise<void> {
    try {
      await this.blobs.create(decisionKey(decision.cohort, decision.hash), json(decision));
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
      const existing = await this.decision(decision.cohort, decision.hash);
      throw new DecisionExistsError(
        `this definition of "${decision.cohort}" was already ${existing?.decision ?? 'decided'} by ${existing?.by ?? 'someone'} at ${existing?.at ?? '?'}; edit it (a new change_reason) to ask again`,
      );
    }
  }

  /** Records a refused or waiting change once; true when it is new (so its alert goes out once). */
  async record(record: GuardrailRecord): Promise<boolean> {
    try {
      await this.blobs.create(guardrailKey(record), json(record));
      return true;
    } catch (error) {
      if (error instanceof BlobExistsError) return false;
      throw error;
    }
  }

  /** Every refused or waiting change of a cohort, oldest first. */
  async records(cohort: string): Promise<GuardrailRecord[]> {
    const keys = await this.blobs.list(guardrailPrefix(cohort));
    const found = await Promise.all(keys.map((key) => this.read<GuardrailRecord>(key)));
    return found.filter((r): r is GuardrailRecord => r !== undefined).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * Records, before a run accepts them, which catalog versions it will announce; {@link markSent}
   * records that it did. A run that died in between leaves them in {@link unsent}. (Entries written
   * before this record existed count as announced.)
   */
  async willAnnounce(runId: string, versions: readonly { readonly cohort: string; readonly version: number }[]): Promise<void> {
    await this.createOnce(announcingKey(runId, 'pending'), {
      run_id: runId,
      versions: versions.map(({ cohort, version }) => ({ cohort, version })),
    });
  }

  /** Records that the `Definition Accepted` events of these runs' versions were sent. */
  async markSent(runIds: readonly string[]): Promise<void> {
    for (const runId of new Set(runIds)) await this.createOnce(announcingKey(runId, 'sent'), { run_id: runId });
  }

  /** The runs whose accepted versions were never recorded as announced, with those versions. */
  async unsent(): Promise<UnsentAnnouncements[]> {
    const runs = new Map<string, Set<string>>();
    for (const key of await this.blobs.list(`${ROOT}announcing/`)) {
      const match = ANNOUNCING_KEY.exec(key);
      if (match) runs.set(match[1] as string, (runs.get(match[1] as string) ?? new Set()).add(match[2] as string));
    }
    const pending = [...runs].filter(([, kinds]) => !kinds.has('sent')).map(([runId]) => runId);
    const found = await Promise.all(pending.map((runId) => this.read<UnsentAnnouncements>(announcingKey(runId, 'pending'))));
    return found.filter((u): u is UnsentAnnouncements => u !== undefined);
  }

  private async createOnce(key: string, value: unknown): Promise<void> {
    try {
      await this.blobs.create(key, json(value));
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
    }
  }

  /** Where a decision on a definition lives: the object an approver may also write themselves. */
  locateDecision(cohort: string, hash: string): string {
    return this.blobs.locate(decisionKey(cohort, hash));
  }

  private async read<T>(key: string): Promise<T | undefined> {
    const bytes = await this.blobs.get(key);
    return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
