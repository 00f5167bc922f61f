import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { METRICS_NAMESPACE, type MetricPoint, type MetricPointUnit } from '../../shared/workflow/run-metrics.ts';

const UNITS: Readonly<Record<MetricPointUnit, (typeof MetricUnit)[keyof typeof MetricUnit]>> = {
  Count: MetricUnit.Count,
  Percent: MetricUnit.Percent,
  Milliseconds: MetricUnit.Milliseconds,
};

/** Where points go: the namespace and the `service` dimension (the POWERTOOLS_* variables the construct sets). */
export interface MetricTarget {
  readonly namespace: string;
  readonly service: string;
}

/** The target from the environment, with the defaults the construct uses. */
export function metricTarget(env: NodeJS.ProcessEnv = process.env): MetricTarget {
  return {
    namespace: env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
    service: env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
  };
}

/**
 * Publishes points as CloudWatch embedded metric format, one log line per set of dimensions, each
 * with exactly `service` and the points' own dimensions: never the handler's `step` dimension, so
 * the dashboard finds a metric under one dimension set whichever step emitted it.
 */
export function publishMetricPoints(points: readonly MetricPoint[], target: MetricTarget = metricTarget()): void {
  const groups = new Map<string, MetricPoint[]>();
  for (const point of points) {
    const key = JSON.stringify(Object.entries(point.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    groups.set(key, [...(groups.get(key) ?? []), point]);
  }
  for (const group of groups.values()) {
    const metrics = new Metrics({
      namespace: target.namespace,
      serviceName: target.service,
      defaultDimensions: { ...group[0]?.dimensions },
    });
    for (const point of group) metrics.addMetric(point.name, UNITS[point.unit], point.value);
    metrics.publishStoredMetrics();
  }
}
