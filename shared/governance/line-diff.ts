/** One line of a diff: kept (` `), removed (`-`) or added (`+`). */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/**
 * A line diff of two texts by longest common subsequence: every line of `before` and `after`
 * once, in order, removed lines before the added lines that replace them. Rules are a few dozen
 * lines, so the quadratic table is small.
 */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const rows = before.length;
  const cols = after.length;
  // common[i][j]: length of the longest common subsequence of before[i..] and after[j..].
  const common = Array.from({ length: rows + 1 }, () => new Array<number>(cols + 1).fill(0));
  for (let i = rows - 1; i >= 0; i--) {
    for (let j = cols - 1; j >= 0; j--) {
      const row = common[i] as number[];
      row[j] = before[i] === after[j] ? (common[i + 1] as number[])[j + 1]! + 1 : Math.max((common[i + 1] as number[])[j]!, row[j + 1]!);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < rows || j < cols) {
    if (i < rows && j < cols && before[i] === after[j]) {
      lines.push({ op: ' ', text: before[i] as string });
      i++;
      j++;
    } else if (j >= cols || (i < rows && (common[i + 1] as number[])[j]! >= (common[i] as number[])[j + 1]!)) {
      lines.push({ op: '-', text: before[i] as string });
      i++;
    } else {
      lines.push({ op: '+', text: after[j] as string });
      j++;
    }
  }
  return lines;
}
