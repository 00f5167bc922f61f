/** ANSI colour codes, left out when alerts are compared. */
const COLOUR_CODES = /\u001b\[[0-9;]*m/g;
/** The first line of an alert as TerminalNotifier prints it: `[warn] title`. */
const TITLE = /^\[(info|warn|fail|error)\] /;

/** An alert's text with colours left out and every number alike: an age that grows each refresh is the same alert. */
const shape = (lines: readonly string[]) => lines.map((line) => line.replace(COLOUR_CODES, '').replace(/\d+(\.\d+)?/g, '#')).join('\n');

/**
 * What `cohorts watch` prints of each refresh's stderr lines: an alert (a `[severity] title` line
 * and its indented body) printed by the refresh before is left out while it stays the same, numbers
 * aside; it is printed again once its text changes, or when it comes back after a refresh without
 * it. Other lines pass. Lines are held until the refresh ends ({@link flush}).
 */
export class RepeatedAlerts {
  private previous = new Set<string>();
  private held: string[] = [];

  constructor(private readonly print: (line: string) => void) {}

  /** One stderr line of the refresh in progress. */
  line(line: string): void {
    this.held.push(line);
  }

  /** Prints the held lines of the refresh that ended, without the alerts the refresh before printed alike. */
  flush(): void {
    const seen = new Set<string>();
    const groups: { alert: boolean; lines: string[] }[] = [];
    for (const line of this.held) {
      const plain = line.replace(COLOUR_CODES, '');
      const last = groups[groups.length - 1];
      if (TITLE.test(plain)) groups.push({ alert: true, lines: [line] });
      else if (last?.alert && plain.startsWith('  ')) last.lines.push(line);
      else groups.push({ alert: false, lines: [line] });
    }
    for (const { alert, lines } of groups) {
      const key = shape(lines);
      if (alert) seen.add(key);
      if (!alert || !this.previous.has(key)) for (const line of lines) this.print(line);
    }
    this.previous = seen;
    this.held = [];
  }
}
