import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Cadence } from '../shared/language/ast.ts';
import { CohortFoundation, type CohortFoundationProps } from './foundation/cohort-foundation.ts';
import { EventIngestion, type EventIngestionSettings } from './ingestion/event-ingestion.ts';
import { RefreshDashboard, type RefreshDashboardProps } from './observability/refresh-dashboard.ts';
import { InvalidPropError } from './common/validate-props.ts';
import { DefinitionUploads, type DefinitionUploadsProps } from './workflow/definition-uploads.ts';
import { RefreshSchedules } from './workflow/refresh-schedules.ts';
import { RefreshStateMachine, type RefreshStateMachineProps } from './workflow/refresh-state-machine.ts';

/** Overrides of the refresh state machine: every {@link RefreshStateMachineProps} but the foundation. */
export type RefreshStateMachineOptions = Omit<RefreshStateMachineProps, 'foundation'>;

/** Overrides of the upload flow: every {@link DefinitionUploadsProps} but what the construct wires itself. */
export type DefinitionUploadsOptions = Omit<DefinitionUploadsProps, 'foundation' | 'stateMachine' | 'eventBus'>;

/** Overrides of the dashboard: every {@link RefreshDashboardProps} but the refresh it shows. */
export type RefreshDashboardOptions = Omit<RefreshDashboardProps, 'refresh'>;

/**
 * Properties of {@link CohortRefresh}: those of the foundation (bring your own lake bucket and
 * key, retention, names, alert subscriptions), which parts to leave out, and overrides of the
 * inner constructs.
 */
export interface CohortRefreshProps extends CohortFoundationProps {
  /**
   * Overrides of the refresh state machine: its name, concurrency, timeouts, event bus and logs.
   *
   * @default - RefreshStateMachine's defaults (name 'cohort-refresh', the account's default bus)
   */
  readonly stateMachineProps?: RefreshStateMachineOptions;

  /**
   * Start the refresh on a schedule: one EventBridge Scheduler schedule per cadence. False leaves
   * them out; start executions yourself (`{"trigger": "schedule:<cadence>", "cadence": "<cadence>"}`).
   *
   * @default true
   */
  readonly schedules?: boolean;

  /**
   * Scheduler expressions by cadence (UTC), e.g. `{ daily: 'cron(30 4 * * ? *)' }`. Only with schedules.
   *
   * @default - DEFAULT_SCHEDULES for every cadence not given
   */
  readonly scheduleExpressions?: Partial<Record<Cadence, string>>;

  /**
   * Validate definitions uploaded under `incoming/` of the definitions bucket and refresh the
   * accepted ones (an EventBridge rule, a function and its alarm). False leaves the flow out:
   * definitions then reach the catalog only by writing the bucket's top level.
   *
   * @default true
   */
  readonly uploads?: boolean;

  /**
   * Overrides of the upload flow: its function's log retention and removal policy. Only with uploads.
   *
   * @default - DefinitionUploads' defaults
   */
  readonly uploadsProps?: DefinitionUploadsOptions;

  /**
   * Add the CloudWatch dashboard of the refresh (about 3 USD a month beyond the account's three free ones).
   *
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Overrides of the dashboard: name, time range, period, more alarms (shown after the Slack
   * webhook's, when there is one). Only with the dashboard.
   *
   * @default - RefreshDashboard's defaults
   */
  readonly dashboardProps?: RefreshDashboardOptions;

  /**
   * Add a Firehose delivery stream that writes producers' events into the lake (`events/dt=YYYY-MM-DD/`,
   * JSON Lines gzip, partitioned by the UTC day of `ts`): `true` for the defaults, or its settings
   * (buffering, a bus to forward from, names). See {@link EventIngestion} and `grantPutEvents`.
   *
   * @default false
   */
  readonly ingestion?: boolean | EventIngestionSettings;
}

/**
 * The whole cohort-refresh product, to embed in a stack: the foundation (buckets, Glue catalog,
 * Athena workgroup, privacy key, alerts topic, Slack delivery), the refresh state machine with its
 * functions and alarms, the schedules, the upload flow and the dashboard. Every inner construct is
 * a public member; the grants a caller outside the product needs are methods here, the rest are on
 * {@link foundation}.
 *
 * Construct ids inside are fixed (`CohortRefresh`, `Refresh`, `Schedules`, `Uploads`,
 * `Dashboard`, `Ingestion`): renaming one replaces its resources. `CohortRefreshStack` creates this construct
 * with the id `Default`, which CDK leaves out of logical ids.
 */
export class CohortRefresh extends Construct {
  /** Buckets, catalog, workgroup, privacy key, alerts topic and Slack delivery, with their grants. */
  public readonly foundation: CohortFoundation;
  /** The refresh state machine with its functions, log group, role and alarms. */
  public readonly refresh: RefreshStateMachine;
  /** The refresh state machine itself (`refresh.stateMachine`). */
  public readonly stateMachine: sfn.StateMachine;
  /** One schedule per cadence, unless `schedules` is false. */
  public readonly schedules?: RefreshSchedules;
  /** The upload flow of definitions under `incoming/`, unless `uploads` is false. */
  public readonly uploads?: DefinitionUploads;
  /** The CloudWatch dashboard, unless `dashboard` is false. */
  public readonly dashboard?: RefreshDashboard;
  /** The delivery stream into the lake, when `ingestion` is set. */
  public readonly ingestion?: EventIngestion;

  constructor(scope: Construct, id: string, props: CohortRefreshProps = {}) {
    super(scope, id);
    const {
      stateMachineProps,
      schedules = true,
      scheduleExpressions,
      uploads = true,
      uploadsProps,
      dashboard = true,
      dashboardProps,
      ingestion = false,
      ...foundationProps
    } = props;
    refuseOverridesOfOmitted([
      ['scheduleExpressions', scheduleExpressions, 'schedules', schedules],
      ['uploadsProps', uploadsProps, 'uploads', uploads],
      ['dashboardProps', dashboardProps, 'dashboard', dashboard],
    ]);

    this.foundation = new CohortFoundation(this, 'CohortRefresh', foundationProps);
    this.refresh = new RefreshStateMachine(this, 'Refresh', { ...stateMachineProps, foundation: this.foundation });
    this.stateMachine = this.refresh.stateMachine;
    if (schedules) {
      this.schedules = new RefreshSchedules(this, 'Schedules', {
        stateMachine: this.stateMachine,
        alerts: { topic: this.foundation.alertsTopic, key: this.foundation.alertsKey },
        ...(scheduleExpressions ? { expressions: scheduleExpressions } : {}),
      });
    }
    if (uploads) {
      this.uploads = new DefinitionUploads(this, 'Uploads', {
        ...uploadsProps,
        foundation: this.foundation,
        stateMachine: this.stateMachine,
        eventBus: this.refresh.eventBus,
      });
    }
    if (ingestion) {
      this.ingestion = new EventIngestion(this, 'Ingestion', { ...(ingestion === true ? {} : ingestion), foundation: this.foundation });
    }
    if (dashboard) {
      const webhookAlarm = this.foundation.slackAlerts?.webhookErrorsAlarm;
      const droppedAlarm = this.schedules?.droppedAlarm;
      const alarms = [...(droppedAlarm ? [droppedAlarm] : []), ...(webhookAlarm ? [webhookAlarm] : []), ...(dashboardProps?.alarms ?? [])];
      this.dashboard = new RefreshDashboard(this, 'Dashboard', {
        ...dashboardProps,
        refresh: this.refresh,
        ...(alarms.length > 0 ? { alarms } : {}),
      });
    }
  }

  /** Lets the grantee start refreshes (`StartExecution` of the state machine), e.g. a CI job or another workflow. */
  public grantStartRefresh(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets the grantee (analysts, a CI role) upload definitions under `incoming/` and nothing else.
   * Needs the upload flow: with `uploads: false` it throws {@link UploadsLeftOutError}.
   */
  public grantUpload(grantee: iam.IGrantable): iam.Grant {
    if (!this.uploads) throw new UploadsLeftOutError(`${this.node.path} was created with uploads: false; nothing validates incoming/`);
    return this.uploads.grantUpload(grantee);
  }

  /**
   * Lets the grantee (a producer's role) send events to the ingestion's delivery stream
   * (`firehose:PutRecord`, `firehose:PutRecordBatch` on that stream only). Needs `ingestion`:
   * without it, it throws {@link IngestionLeftOutError}.
   */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    if (!this.ingestion) throw new IngestionLeftOutError(`${this.node.path} was created without ingestion; there is no delivery stream`);
    return this.ingestion.grantPutEvents(grantee);
  }

  /** Lets the grantee list the definitions bucket and read every definition. */
  public grantReadDefinitions(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantReadDefinitions(grantee);
  }

  /** Lets the grantee write the catalog's definitions directly (create or overwrite; never delete), bypassing validation. */
  public grantWriteDefinitions(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantWriteDefinitions(grantee);
  }

  /** Lets the grantee read every snapshot version, manifest and `current.json`. */
  public grantReadSnapshots(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantReadSnapshots(grantee);
  }

  /** Lets the grantee read every export: what downstream systems consume. */
  public grantReadExports(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantReadExports(grantee);
  }

  /** Lets the grantee drop deletion requests (`privacy/deletion-requests/*`) and nothing else. */
  public grantRequestDeletion(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantRequestDeletion(grantee);
  }

  /** Lets the grantee run Athena queries over the catalog in the workgroup (lake, snapshots, results). */
  public grantQueryLake(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantQueryLake(grantee);
  }

  /**
   * Lets the grantee (an analyst's CLI user, a CI role) run `cohorts plan --cloud`, lists included
   * (see the foundation's `grantPlan`).
   */
  public grantPlan(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantPlan(grantee);
  }

  /** Lets the grantee run `cohorts doctor --cloud` (see the foundation's `grantCheckDeployment`). */
  public grantCheckDeployment(grantee: iam.IGrantable): iam.Grant {
    return this.foundation.grantCheckDeployment(grantee);
  }
}

/** `grantUpload` on a {@link CohortRefresh} created without the upload flow. */
export class UploadsLeftOutError extends Error {
  override name = 'UploadsLeftOutError';
}

/** `grantPutEvents` on a {@link CohortRefresh} created without `ingestion`. */
export class IngestionLeftOutError extends Error {
  override name = 'IngestionLeftOutError';
}

/** Overrides of a part that was left out are a mistake: say so rather than ignore them. */
function refuseOverridesOfOmitted(pairs: readonly [string, unknown, string, boolean][]): void {
  for (const [override, value, toggle, enabled] of pairs) {
    if (value !== undefined && !enabled) {
      throw new InvalidPropError(`${override} applies only with ${toggle}, got ${toggle}: false and ${override}`);
    }
  }
}
