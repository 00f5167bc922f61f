import { writeFile } from 'node:fs/promises';
import { definitionJsonSchemaText } from './json-schema.ts';

// `npm run schema`: regenerates definitions/schema.json from the zod schemas.
const target = process.argv[2] ?? 'definitions/schema.json';
await writeFile(target, definitionJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
