import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Chart.js's UMD build, read from the installed package, ready to inline. */
export async function chartLibrary(): Promise<string> {
  // The package's exports map hides dist/; resolve its main entry and take the sibling file.
  const main = createRequire(import.meta.url).resolve('chart.js');
  const code = await readFile(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  // The source map is not shipped with the page; a browser would only look for it and fail.
  return code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}
