import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { parseEvent } from '../../shared/input-validation.ts';
import { TilesBusyError } from '../../shared/workflow/errors.ts';
import { MetricDimension, StepMetric } from '../../shared/workflow/run-metrics.ts';
import { startInvocation } from './invocation.ts';
import { logger, metrics } from './powertools.ts';

/** The parts of the Lambda context the handlers use (the `aws-lambda` types are not a dependency). */
export interface LambdaContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  readonly [key: string]: unknown;
}

/** What makes a step's Lambda handler. */
export interface StepHandlerOptions<S extends z.ZodType, P, O> {
  /** The state name, for logs, metrics and errors. */
  readonly step: string;
  /** The step's input schema (shared/workflow/events.ts). */
  readonly schema: S;
  /** The step's ports; built once per container. */
  readonly ports: () => P;
  /** The step itself (shared/workflow/steps.ts). */
  readonly run: (event: z.output<S>, ports: P) => Promise<O>;
  /** Metrics of a successful result. */
  readonly measure?: (output: O) => void;
}

/**
 * A thin Lambda handler around one step: validate the event at the edge (a bad one is an
 * `InvalidEventError`), build the ports, run the step, log and count the outcome. Errors are
 * rethrown unchanged: their names are what the state machine's Retry and Catch match on. A
 * TilesBusyError is a Plan waiting for the tile store's lease (or for a run still snapshotting its cohorts), not a failure: logged at info and
 * counted as TilesBusy, not StepFailed (should the wait run out, AlertFailure alerts as on any error).
 */
export function stepHandler<S extends z.ZodType, P, O>(
  options: StepHandlerOptions<S, P, O>,
): (event: unknown, context?: LambdaContext) => Promise<O> {
  return async (event, context) => {
    if (context) logger.addContext(context as never);
    startInvocation(context);
    logger.appendKeys({ step: options.step });
    metrics.addDimension(MetricDimension.step, options.step);
    try {
      const input = parseEvent(options.step, options.schema, event);
      const output = await options.run(input, options.ports());
      options.measure?.(output);
      metrics.addMetric(StepMetric.StepSucceeded, MetricUnit.Count, 1);
      logger.info(`${options.step} succeeded`);
      return output;
    } catch (error) {
      if (error instanceof TilesBusyError) {
        metrics.addMetric(StepMetric.TilesBusy, MetricUnit.Count, 1);
        if (error.ahead)
          logger.info(`waiting for the tile store's lease behind ${error.holder}, which waits for it too`, { holder: error.holder });
        else if (error.cohorts === undefined)
          logger.info(`waiting for the tile store's lease held by ${error.holder}`, { holder: error.holder });
        else
          logger.info(`waiting for ${error.holder}, which still snapshots cohorts this run planned`, {
            holder: error.holder,
            cohorts: error.cohorts,
          });
      } else {
        metrics.addMetric(StepMetric.StepFailed, MetricUnit.Count, 1);
        logger.error(`${options.step} failed`, error as Error);
      }
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
