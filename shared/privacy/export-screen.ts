import type { PrivacyPorts } from './ports.ts';
import { loadPrivacyLists, screen } from './screen.ts';

/** The person lists of one export (any exporter's input with these fields). */
export interface ExportLists {
  readonly members: readonly string[];
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  /** A Parquet member list to copy beside the lists. */
  readonly membersParquet?: string;
}

/**
 * The screen exporters apply before writing: suppressed and forgotten people leave every list.
 * When that removed anyone, the Parquet copy is dropped too (it would still hold them; the CSV
 * lists are complete without it).
 */
export function exportScreen(ports: PrivacyPorts): <T extends ExportLists>(input: T) => Promise<T> {
  return async (input) => {
    const lists = await loadPrivacyLists(ports);
    const members = screen(input.members, lists);
    const entered = screen(input.entered, lists);
    const exited = screen(input.exited, lists);
    const removed = members.suppressed + members.forgotten + entered.suppressed + entered.forgotten + exited.suppressed + exited.forgotten;
    if (removed === 0) return input;
    const { membersParquet: _dropped, ...rest } = input;
    // T without its Parquet copy and with shorter lists is still a T: the copy is optional.
    return { ...rest, members: members.members, entered: entered.members, exited: exited.members } as unknown as typeof input;
  };
}
