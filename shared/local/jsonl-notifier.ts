import { join } from 'node:path';
import { appendJsonLines } from './append-json-lines.ts';
import type { Alert, Notifier } from '../ports.ts';

/** Alerts of the local world: one JSON line per alert, with the time it was sent, appended to a file. */
export class JsonlNotifier implements Notifier {
  constructor(
    /** The file alerts are appended to. */
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The notifier of a state folder: `<state>/alerts.jsonl`. */
  static inState(state: string): JsonlNotifier {
    return new JsonlNotifier(join(state, 'alerts.jsonl'));
  }

  async notify(alert: Alert): Promise<void> {
    await appendJsonLines(this.file, [{ sent_at: this.now().toISOString(), ...alert }]);
  }
}
