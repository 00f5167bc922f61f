import type { PrivacyPorts } from './ports.ts';
import { loadPrivacyLists, screen } from './screen.ts';

/** The person lists of one export (any exporter's input with these fields). */
export interface ExportLists {
  readonly members: readonly string[];
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  /** An experiment's holdout members. */
  readonly holdout?: readonly string[];
}

/** The screen exporters apply before writing: suppressed and forgotten people leave every list. */
export function exportScreen(ports: PrivacyPorts): <T extends ExportLists>(input: T) => Promise<T> {
  return async (input) => {
    const lists = await loadPrivacyLists(ports);
    const screened = (ids: readonly string[]) => screen(ids, lists);
    const [members, entered, exited, holdout] = [input.members, input.entered, input.exited, input.holdout ?? []].map(screened) as [
      Screened,
      Screened,
      Screened,
      Screened,
    ];
    if ([members, entered, exited, holdout].every((list) => list.suppressed + list.forgotten === 0)) return input;
    return {
      ...input,
      members: members.members,
      entered: entered.members,
      exited: exited.members,
      ...(input.holdout ? { holdout: holdout.members } : {}),
    };
  };
}

type Screened = ReturnType<typeof screen>;
