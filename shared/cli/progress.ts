import cliProgress from 'cli-progress';
import type { ProgressListener } from '../ports.ts';
import type { Output } from './io.ts';

/** A progress bar on a terminal; one line per step elsewhere (CI logs, pipes). */
export function progressReporter(io: Output): { update: ProgressListener; stop: () => void } {
  let step = '';
  let bar: cliProgress.SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const update: ProgressListener = (name, done, total) => {
    if (name !== step) {
      stop();
      step = name;
      if (io.interactive) {
        bar = new cliProgress.SingleBar(
          { format: `${name.padEnd(36)} {bar} {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      } else {
        io.err(`${name}...`);
      }
    }
    bar?.setTotal(total);
    bar?.update(done);
  };
  return { update, stop };
}
