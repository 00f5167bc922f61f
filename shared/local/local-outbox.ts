import { randomUUID } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FsBlobStore } from './fs-blob-store.ts';
import type { Alert, Notifier } from '../ports.ts';

/** A run in progress, as recorded in the outbox until it ends. */
interface RunRecord {
  readonly run_id: string;
  readonly as_of: string;
  readonly started_at: string;
}

const FOLDER = 'outbox';

/**
 * What a killed local run would otherwise never say, kept in `<state>/outbox/` until it is said:
 * every alert is written there before it is sent and removed after (so one a run was sending
 * when it died goes out with the next run), and every run is recorded there while it runs (so
 * the next run alerts that it ended without finishing). At least once: a crash between the send
 * and the removal sends that alert again.
 */
export class LocalOutbox {
  private readonly blobs: FsBlobStore;
  /** Whether an alert could not be written to the outbox. */
  private unwritten = false;

  constructor(
    private readonly state: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.blobs = new FsBlobStore(state);
  }

  /** A notifier that sends through `inner` by way of the outbox. */
  notifier(inner: Notifier): Notifier {
    return {
      notify: async (alert) => {
        const key = `${FOLDER}/alert-${this.now().getTime()}-${randomUUID()}.json`;
        try {
          await this.blobs.put(key, `${JSON.stringify(alert)}\n`);
        } catch (error) {
          // A full disk: send it anyway (the terminal needs no disk), and keep the run's record so
          // the next run alerts that this one did not finish.
          this.unwritten = true;
          await inner.notify(alert).catch(() => undefined);
          throw error;
        }
        await inner.notify(alert);
        await unlink(this.blobs.locate(key));
      },
    };
  }

  /** Records that a run started; {@link end} removes the record. */
  async begin(run: RunRecord): Promise<void> {
    await this.blobs.put(`${FOLDER}/run-${run.run_id}.json`, `${JSON.stringify(run)}\n`);
  }

  /**
   * Removes the run's record, unless one of its alerts could not be written to the outbox (that
   * alert may never have reached alerts.jsonl): then the next run's {@link recover} alerts that
   * this run did not finish. Returns whether the record was removed.
   */
  async end(runId: string): Promise<boolean> {
    if (this.unwritten) return false;
    await unlink(this.blobs.locate(`${FOLDER}/run-${runId}.json`)).catch(() => undefined);
    return true;
  }

  /**
   * Sends what earlier runs left unsaid, oldest first: their pending alerts, and a `warn` alert for
   * each run that ended without finishing. Call it holding the state folder's run lock, before a
   * run. Returns how many alerts it sent.
   */
  async recover(notifier: Notifier): Promise<number> {
    const names = (await readdir(join(this.state, FOLDER)).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
    let sent = 0;
    for (const name of names) {
      const file = join(this.state, FOLDER, name);
      const text = await readFile(file, 'utf8');
      if (name.startsWith('alert-')) await notifier.notify(JSON.parse(text) as Alert);
      else if (name.startsWith('run-')) await notifier.notify(unfinishedAlert(JSON.parse(text) as RunRecord));
      else continue;
      await unlink(file);
      sent++;
    }
    return sent;
  }
}

/** The alert about a run that was killed or crashed: nothing caught it, so nothing else says it. */
function unfinishedAlert(run: RunRecord): Alert {
  return {
    severity: 'warn',
    title: `Refresh ${run.run_id} as of ${run.as_of} ended without finishing`,
    body: [
      `The refresh started at ${run.started_at} stopped before its last step (the process was killed or crashed, or its alert could not be written), so its alert may never have been sent.`,
      'This run repairs what it left: a version it wrote but never made current is published (same as-of) or marked lost (new as-of),',
      'exports and events it did not deliver are delivered, and its unfinished files are removed.',
    ].join('\n'),
    run_id: run.run_id,
    cohorts: [],
  };
}
