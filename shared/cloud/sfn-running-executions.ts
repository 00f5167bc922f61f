import { DescribeExecutionCommand, type SFNClient, paginateListExecutions } from '@aws-sdk/client-sfn';
import { CADENCES, type Cadence } from '../language/ast.ts';
import type { RunningExecution, RunningExecutions } from '../refresh-request.ts';
import { awsCall } from './aws-call.ts';

/** The cadence an execution input names, if it is one. */
function cadenceOf(input: string | undefined): Cadence | undefined {
  try {
    const cadence = (JSON.parse(input ?? '{}') as { cadence?: unknown }).cadence;
    return (CADENCES as readonly unknown[]).includes(cadence) ? (cadence as Cadence) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The refresh state machine's RUNNING executions with their inputs' cadences: ListExecutions,
 * then DescribeExecution of each (a handful at most: runs of one cadence never overlap).
 */
export class SfnRunningExecutions implements RunningExecutions {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async running(): Promise<readonly RunningExecution[]> {
    const found: RunningExecution[] = [];
    const pages = paginateListExecutions({ client: this.client }, { stateMachineArn: this.stateMachineArn, statusFilter: 'RUNNING' });
    for await (const page of pages) {
      for (const execution of page.executions ?? []) {
        if (!execution.executionArn || !execution.name || !execution.startDate) continue;
        const described = await awsCall('SFN.DescribeExecution', () =>
          this.client.send(new DescribeExecutionCommand({ executionArn: execution.executionArn })),
        );
        found.push({ name: execution.name, startedAt: execution.startDate, cadence: cadenceOf(described.input) });
      }
    }
    return found;
  }
}
