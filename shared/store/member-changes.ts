/** Members that entered and exited since the previous version, each list in the order given. */
export function changes(current: readonly string[], previous: readonly string[] | undefined): { entered: string[]; exited: string[] } {
  if (!previous) return { entered: [...current], exited: [] };
  const before = new Set(previous);
  const now = new Set(current);
  return {
    entered: current.filter((id) => !before.has(id)),
    exited: previous.filter((id) => !now.has(id)),
  };
}
