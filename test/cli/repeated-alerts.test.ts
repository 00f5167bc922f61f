import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { RepeatedAlerts } from '../../shared/cli/repeated-alerts.ts';

/** The lines printed for each refresh's stderr lines, in order. */
function printed(refreshes: readonly (readonly string[])[]): string[][] {
  const out: string[] = [];
  const alerts = new RepeatedAlerts((line) => out.push(line));
  return refreshes.map((lines) => {
    out.length = 0;
    for (const line of lines) alerts.line(line);
    alerts.flush();
    return [...out];
  });
}

describe('RepeatedAlerts (cohorts watch prints a repeated alert once)', () => {
  const stale = (hours: string) => [
    pc.yellow(pc.bold('[warn] Source checks warn')),
    pc.yellow(`  product: newest event ${hours} hours old`),
  ];

  it('prints an alert once while it repeats (numbers aside), again once its text changes or it comes back; other lines always', () => {
    const refreshes = [
      [...stale('30.1'), 'some other line'],
      [...stale('30.2'), 'some other line'],
      [pc.yellow(pc.bold('[warn] Source checks warn')), pc.yellow('  product: no events today')],
      [],
      stale('31'),
    ];
    expect(printed(refreshes)).toEqual([
      [...stale('30.1'), 'some other line'],
      ['some other line'],
      [pc.yellow(pc.bold('[warn] Source checks warn')), pc.yellow('  product: no events today')],
      [],
      stale('31'),
    ]);
  });

  it('keeps an indented line that follows no alert as a line of its own', () => {
    expect(printed([['  + ann'], ['  + ann']])).toEqual([['  + ann'], ['  + ann']]);
  });
});
