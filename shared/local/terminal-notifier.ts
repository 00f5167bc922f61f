import pc from 'picocolors';
import type { Alert, Notifier } from '../ports.ts';

const COLOUR = { info: pc.cyan, warn: pc.yellow, fail: pc.red, error: pc.red } as const;

/** Prints alerts on the terminal, coloured by severity, and passes them on to another notifier. */
export class TerminalNotifier implements Notifier {
  constructor(
    private readonly print: (line: string) => void,
    private readonly next?: Notifier,
  ) {}

  async notify(alert: Alert): Promise<void> {
    const colour = COLOUR[alert.severity];
    this.print(colour(pc.bold(`[${alert.severity}] ${alert.title}`)));
    for (const line of alert.body.split('\n')) this.print(colour(`  ${line}`));
    await this.next?.notify(alert);
  }
}
