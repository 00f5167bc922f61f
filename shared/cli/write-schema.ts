import { writeFile } from 'node:fs/promises';
import { fixtureJsonSchemaText } from '../fixtures/json-schema.ts';
import { actionJsonSchemaText, definitionJsonSchemaText } from '../language/json-schema.ts';

// `npm run schema`: regenerates definitions/schema.json (and definitions/tests/schema.json for
// fixture tests, and definitions/actions/schema.json for named actions) from the zod schemas.
const target = process.argv[2] ?? 'definitions/schema.json';
await writeFile(target, definitionJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
const fixtureTarget = process.argv[3] ?? 'definitions/tests/schema.json';
await writeFile(fixtureTarget, fixtureJsonSchemaText());
process.stdout.write(`wrote ${fixtureTarget}\n`);
const actionTarget = process.argv[4] ?? 'definitions/actions/schema.json';
await writeFile(actionTarget, actionJsonSchemaText());
process.stdout.write(`wrote ${actionTarget}\n`);
