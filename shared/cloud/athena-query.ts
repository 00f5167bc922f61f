import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetQueryRuntimeStatisticsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { stringLiteral } from '../compiler/sql-text.ts';
import { awsCall } from './aws-call.ts';
import { s3FolderUri } from './s3-uri.ts';

/** How an {@link AthenaQueryRunner} runs and waits for queries. */
export interface AthenaQueryRunnerOptions {
  /** The workgroup, whose enforced settings choose the results location and encryption. */
  readonly workGroup: string;
  /** The Glue database unqualified table names resolve in. */
  readonly database: string;
  /**
   * The data catalog.
   *
   * @default 'AwsDataCatalog'
   */
  readonly catalog?: string;
  /**
   * Waits between polls; tests pass one that returns at once.
   *
   * @default - a timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The first pause between polls; each next pause doubles, up to `maxDelayMs`.
   *
   * @default 250
   */
  readonly firstDelayMs?: number;
  /**
   * The longest pause between polls.
   *
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * How long to wait (summed pauses between polls) before stopping the query and raising
   * {@link AthenaQueryTimeoutError}. Keep it below the calling Lambda's timeout.
   *
   * @default 600000 (10 minutes)
   */
  readonly maxWaitMs?: number;
  /**
   * How long the caller may still wait, asked before each pause (a Lambda step: its invocation's
   * remaining time less a margin). At zero the query is stopped and {@link AthenaQueryTimeoutError}
   * raised, as at `maxWaitMs`: several queries in one invocation must not outlive it, or Lambda ends
   * the invocation mid-wait and the query goes on in Athena (writing a tile day a later run builds
   * again). Undefined: no limit but `maxWaitMs`.
   *
   * @default - no limit but maxWaitMs
   */
  readonly remainingMs?: () => number | undefined;
  /**
   * Rows per `GetQueryResults` page (Athena allows at most 1000).
   *
   * @default 1000
   */
  readonly pageSize?: number;
}

/** What Athena reports about a finished query. */
export interface AthenaQueryStatistics {
  /** Bytes scanned, which is what the query costs. */
  readonly dataScannedInBytes: number;
  readonly engineExecutionTimeInMillis?: number;
  readonly totalExecutionTimeInMillis?: number;
  readonly queryQueueTimeInMillis?: number;
}

/** A query that succeeded. */
export interface AthenaExecution {
  readonly queryId: string;
  readonly statistics: AthenaQueryStatistics;
  /** Where Athena wrote the result file, when it wrote one. */
  readonly outputLocation?: string;
}

/** A row of a result: each value as Athena's text, `null` for SQL NULL. */
export type AthenaRow = readonly (string | null)[];

/** The rows of a SELECT that succeeded. */
export interface AthenaQueryResult extends AthenaExecution {
  readonly columns: readonly string[];
  readonly rows: readonly AthenaRow[];
}

/** Details of a query that ended in FAILED. */
export interface AthenaFailure {
  readonly queryId: string;
  /** Athena's `StateChangeReason`, e.g. `SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved`. */
  readonly reason: string;
  /** `AthenaError.ErrorCategory`: 1 system, 2 user, 3 other. */
  readonly errorCategory?: number;
  /** `AthenaError.ErrorType`, a finer code. */
  readonly errorType?: number;
}

const failureMessage = (f: AthenaFailure) => `Athena query ${f.queryId} failed: ${f.reason}`;

/** A query that ended in FAILED, with what Athena said about it. */
abstract class AthenaFailureError extends Error implements AthenaFailure {
  readonly queryId: string;
  readonly reason: string;
  readonly errorCategory?: number;
  readonly errorType?: number;

  constructor(failure: AthenaFailure) {
    super(failureMessage(failure));
    ({ queryId: this.queryId, reason: this.reason, errorCategory: this.errorCategory, errorType: this.errorType } = failure);
  }
}

/** The query ended in FAILED and Athena says running it again will not help. */
export class AthenaQueryFailedError extends AthenaFailureError {
  override readonly name = 'AthenaQueryFailedError';
}

/** The query ended in FAILED and Athena marks it retryable (`AthenaError.Retryable`): retry the step. */
export class AthenaQueryRetryableError extends AthenaFailureError {
  override readonly name = 'AthenaQueryRetryableError';
}

/** The query ended in CANCELLED: someone (or something) stopped it. */
export class AthenaQueryCancelledError extends Error {
  override readonly name = 'AthenaQueryCancelledError';

  constructor(
    readonly queryId: string,
    readonly reason: string | undefined,
  ) {
    super(`Athena query ${queryId} was cancelled${reason ? `: ${reason}` : ''}`);
  }
}

/** The query did not finish within `maxWaitMs`; it was asked to stop. */
export class AthenaQueryTimeoutError extends Error {
  override readonly name = 'AthenaQueryTimeoutError';

  constructor(
    readonly queryId: string,
    readonly waitedMs: number,
  ) {
    super(`Athena query ${queryId} did not finish within ${waitedMs} ms and was stopped`);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Runs SQL in Athena: start in a workgroup, poll with exponential backoff until it ends, read the
 * rows page by page. Throttled calls surface as `ThrottledError`; a failed query as
 * {@link AthenaQueryFailedError} or {@link AthenaQueryRetryableError}, each with the query id.
 */
export class AthenaQueryRunner {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxWaitMs: number;
  private readonly pageSize: number;

  constructor(
    private readonly client: AthenaClient,
    private readonly options: AthenaQueryRunnerOptions,
  ) {
    this.sleep = options.sleep ?? defaultSleep;
    this.firstDelayMs = options.firstDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.maxWaitMs = options.maxWaitMs ?? 600_000;
    this.pageSize = options.pageSize ?? 1_000;
  }

  /**
   * Starts a query; returns its id. With `clientRequestToken` (32 to 128 characters, e.g. derived
   * from the run id), starting the same query again returns the first one instead of a new one,
   * so a retried step does not pay twice.
   */
  async start(sql: string, clientRequestToken?: string): Promise<string> {
    const out = await awsCall('Athena.StartQueryExecution', () =>
      this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: this.options.workGroup,
          QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
          ...(clientRequestToken === undefined ? {} : { ClientRequestToken: clientRequestToken }),
        }),
      ),
    );
    if (!out.QueryExecutionId) throw new Error('Athena started a query without returning its id');
    return out.QueryExecutionId;
  }

  /** Waits until a query ends; returns it when it succeeded, raises the matching error otherwise. */
  async wait(queryId: string): Promise<QueryExecution> {
    let waited = 0;
    let delay = this.firstDelayMs;
    for (;;) {
      const execution = await this.execution(queryId);
      const status = execution.Status;
      switch (status?.State) {
        case 'SUCCEEDED':
          return execution;
        case 'FAILED': {
          const failure: AthenaFailure = {
            queryId,
            reason: status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? 'no reason given',
            errorCategory: status.AthenaError?.ErrorCategory,
            errorType: status.AthenaError?.ErrorType,
          };
          throw status.AthenaError?.Retryable ? new AthenaQueryRetryableError(failure) : new AthenaQueryFailedError(failure);
        }
        case 'CANCELLED':
          throw new AthenaQueryCancelledError(queryId, status.StateChangeReason);
      }
      const remaining = this.options.remainingMs?.();
      if (waited >= this.maxWaitMs || (remaining !== undefined && remaining <= 0)) {
        await this.stop(queryId);
        throw new AthenaQueryTimeoutError(queryId, waited);
      }
      const pause = Math.min(delay, this.maxWaitMs - waited, remaining ?? Number.POSITIVE_INFINITY);
      await this.sleep(pause);
      waited += pause;
      delay = Math.min(delay * 2, this.maxDelayMs);
    }
  }

  /**
   * Every row of a finished query, page by page. A SELECT's first row holds the column names,
   * not data: it is skipped when `skipHeader` is set.
   */
  async rows(queryId: string, skipHeader: boolean): Promise<{ columns: string[]; rows: AthenaRow[] }> {
    const rows: AthenaRow[] = [];
    let columns: string[] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await awsCall('Athena.GetQueryResults', () =>
        this.client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, NextToken: token, MaxResults: this.pageSize })),
      );
      if (first) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
      const pageRows = (page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((d) => d.VarCharValue ?? null));
      rows.push(...(first && skipHeader ? pageRows.slice(1) : pageRows));
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns, rows };
  }

  /**
   * The rows a finished query wrote (`OutputRows` of its runtime statistics), e.g. the rows a
   * CTAS put in its table; undefined when Athena does not report them.
   */
  async outputRows(queryId: string): Promise<number | undefined> {
    const out = await awsCall('Athena.GetQueryRuntimeStatistics', () =>
      this.client.send(new GetQueryRuntimeStatisticsCommand({ QueryExecutionId: queryId })),
    );
    return out.QueryRuntimeStatistics?.Rows?.OutputRows;
  }

  /** Runs a SELECT and reads every row. */
  async query(sql: string, clientRequestToken?: string): Promise<AthenaQueryResult> {
    const queryId = await this.start(sql, clientRequestToken);
    const execution = await this.wait(queryId);
    const { columns, rows } = await this.rows(queryId, isSelect(execution));
    return { ...summary(queryId, execution), columns, rows };
  }

  /** Runs a statement whose rows are not needed (DDL, UNLOAD). */
  async execute(sql: string, clientRequestToken?: string): Promise<AthenaExecution> {
    const queryId = await this.start(sql, clientRequestToken);
    return summary(queryId, await this.wait(queryId));
  }

  /**
   * Writes the rows of a SELECT as Parquet files under an S3 folder with Athena's `UNLOAD`.
   * `sql` comes from the compiler, never from users; the folder is a validated `s3://` URI (no
   * quotes) that must be empty: UNLOAD refuses to write into a folder that holds objects.
   */
  async unloadToParquet(sql: string, s3Prefix: string, clientRequestToken?: string): Promise<AthenaExecution & { location: string }> {
    const location = s3FolderUri(s3Prefix);
    return { ...(await this.execute(unloadStatement(sql, location), clientRequestToken)), location };
  }

  private async execution(queryId: string): Promise<QueryExecution> {
    const out = await awsCall('Athena.GetQueryExecution', () =>
      this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })),
    );
    if (!out.QueryExecution) throw new Error(`Athena returned no execution for query ${queryId}`);
    return out.QueryExecution;
  }

  private async stop(queryId: string): Promise<void> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
    } catch {
      // Best effort: the timeout is what the caller needs to hear about.
    }
  }
}

/**
 * `UNLOAD (<sql>) TO '<folder>' WITH (format = 'PARQUET')`. The body sits on lines of its own,
 * so a `--` comment in it (compiled SQL starts with one) cannot swallow the closing parenthesis.
 */
export function unloadStatement(sql: string, s3Prefix: string): string {
  return `UNLOAD (\n${sql}\n) TO ${stringLiteral(s3FolderUri(s3Prefix))} WITH (format = 'PARQUET')`;
}

/** A SELECT (also `WITH ... SELECT`) is DML whose sub-statement is SELECT. */
const isSelect = (execution: QueryExecution) =>
  execution.StatementType === 'DML' && (execution.SubstatementType ?? 'SELECT').toUpperCase() === 'SELECT';

function summary(queryId: string, execution: QueryExecution): AthenaExecution {
  const s = execution.Statistics;
  const statistics: AthenaQueryStatistics = {
    dataScannedInBytes: s?.DataScannedInBytes ?? 0,
    ...(s?.EngineExecutionTimeInMillis === undefined ? {} : { engineExecutionTimeInMillis: s.EngineExecutionTimeInMillis }),
    ...(s?.TotalExecutionTimeInMillis === undefined ? {} : { totalExecutionTimeInMillis: s.TotalExecutionTimeInMillis }),
    ...(s?.QueryQueueTimeInMillis === undefined ? {} : { queryQueueTimeInMillis: s.QueryQueueTimeInMillis }),
  };
  const outputLocation = execution.ResultConfiguration?.OutputLocation;
  return { queryId, statistics, ...(outputLocation === undefined ? {} : { outputLocation }) };
}
