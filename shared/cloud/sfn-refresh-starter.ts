import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RefreshInput, RefreshStarter } from '../refresh-request.ts';
import { awsCall } from './aws-call.ts';

/** Starts executions of the refresh state machine. */
export class SfnRefreshStarter implements RefreshStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * StartExecution with the name given. Step Functions answers a repeat of a running execution's
   * name and input with that execution; once it has ended, with ExecutionAlreadyExists, which
   * here means "already started" too: the execution's ARN follows from the machine's and the name.
   */
  async start(input: RefreshInput, name: string): Promise<string> {
    try {
      const out = await awsCall('SFN.StartExecution', () =>
        this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) })),
      );
      return out.executionArn ?? this.executionArnOf(name);
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return this.executionArnOf(name);
      throw error;
    }
  }

  private executionArnOf(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}
