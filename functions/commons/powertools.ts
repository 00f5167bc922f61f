import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { METRICS_NAMESPACE } from '../../shared/workflow/run-metrics.ts';

/**
 * The one Logger and Metrics every handler uses, configured once per container. Service name,
 * namespace and log level come from POWERTOOLS_* variables the construct sets.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

export const metrics = new Metrics({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
});
