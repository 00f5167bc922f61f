/** Outcome of one check (SPEC section 6). */
export interface CheckResult {
  readonly name: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly observed: number | string | null;
  readonly threshold: number | string | null;
  readonly message: string;
}

/** Where a version came from (SPEC section 5). */
export interface Lineage {
  readonly engine: string;
  readonly query: string;
  readonly inputs: readonly { readonly table: string; readonly location: string; readonly partitions: readonly string[] }[];
  readonly depends_on: readonly { readonly cohort: string; readonly version: number }[];
  readonly run_id: string;
}

/** `manifest.json` of a snapshot version: every key SPEC section 5 lists, plus a few more. */
export interface Manifest {
  readonly cohort: string;
  readonly version: number;
  readonly as_of: string;
  readonly created_at: string;
  readonly status: 'published' | 'held';
  readonly trigger: string;
  readonly rationale: string | null;
  readonly size: number;
  readonly previous_version: number | null;
  readonly entered: number;
  readonly exited: number;
  readonly definition: {
    readonly hash: string;
    readonly path: string;
    readonly name: string;
    readonly owner: string;
    readonly tier: string;
    readonly cadence: string;
  };
  readonly checks: readonly CheckResult[];
  readonly lineage: Lineage;
  /** People in the population at as_of. */
  readonly population: number;
}
