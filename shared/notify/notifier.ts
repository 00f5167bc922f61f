/** How bad an alert is: `fail` when a version was held, `error` when the pipeline broke. */
export type AlertSeverity = 'info' | 'warn' | 'fail' | 'error';

/** One alert per run (or per pipeline error), written for people first. */
export interface Alert {
  readonly severity: AlertSeverity;
  /** One line, no newline; e-mail subjects are cut to 100 characters. */
  readonly title: string;
  /** Plain text, readable in an e-mail or a terminal. */
  readonly body: string;
  readonly run_id?: string;
  /** Cohorts the alert is about (for filtering). */
  readonly cohorts: readonly string[];
  /** The step that failed, for pipeline errors. */
  readonly step?: string;
  /** Structured details for programmatic consumers. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Where alerts go: a file and the terminal locally, SNS (and Slack) in the cloud. */
export interface Notifier {
  notify(alert: Alert): Promise<void>;
}
