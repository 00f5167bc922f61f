import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { JsonlEvents } from '../../shared/local/jsonl-events.ts';
import { JsonlNotifier } from '../../shared/local/jsonl-notifier.ts';
import type { RefreshInput, RefreshStarter } from '../../shared/refresh-request.ts';
import { handleDefinitionUpload } from '../../shared/uploads/definition-upload.ts';
import { tempDir } from '../support/cli.ts';
import { writeDefinitions } from '../support/lake.ts';

/**
 * A live catalog (definitions, and the files of one sub-folder such as `actions/` or `lists/`),
 * the refreshes its uploads start, and an upload that goes through incoming/ as an analyst's does.
 */
export async function givenUploadCatalog(catalog: Record<string, string>, subFolder: string, files: Record<string, string>) {
  const folder = await tempDir('cohorts-definitions-');
  const state = await tempDir('cohorts-uploads-');
  await writeDefinitions(folder, catalog);
  await mkdir(join(folder, subFolder));
  await writeDefinitions(join(folder, subFolder), files);
  const definitions = new FsBlobStore(folder);
  const started: RefreshInput[] = [];
  const refresh: RefreshStarter = {
    start: async (input, name) => {
      started.push(input);
      return `execution:${name}`;
    },
  };
  const ports = { definitions, refresh, notifier: JsonlNotifier.inState(state), events: JsonlEvents.inState(state) };
  const upload = async (name: string, text: string) => {
    await definitions.put(`incoming/${name}`, text);
    return handleDefinitionUpload({ key: `incoming/${name}`, id: 'event-1' }, ports);
  };
  return { folder, started, upload };
}
