import { tilesEventSchema } from '../shared/workflow/events.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { tilesStep } from '../shared/workflow/tiles-step.ts';
import { stepHandler } from './commons/handler.ts';
import { tilesPorts } from './commons/ports.ts';

/** The Tiles state: tiles up to date on Athena, then the tiled query's statement for Evaluate. */
export const handler = stepHandler({
  step: StateName.Tiles,
  schema: tilesEventSchema,
  ports: tilesPorts,
  run: tilesStep,
});
