import { CONFIG_FILE } from '../config/config.ts';
import { ACTIONS_FOLDER } from '../language/actions.ts';
import { buildCatalog, loadCatalog } from '../language/catalog.ts';
import { LISTS_FOLDER } from '../language/uploaded-lists.ts';
import type { BlobStore, DefinitionsSource } from '../ports.ts';

const DEFINITION_KEY = /\.ya?ml$/;

/** Definitions in a folder (the local world): `*.yaml`/`*.yml` at its top level. */
export function folderDefinitions(folder: string): DefinitionsSource {
  return () => loadCatalog(folder);
}

/** A definition file as the catalog reads it: where it lives and its text. */
export interface DefinitionFile {
  /** The blob's key in the store. */
  readonly key: string;
  /** Where it lives (an s3:// URI or a path), which problems and manifests name. */
  readonly path: string;
  readonly text: string;
}

/**
 * The definition files of a blob store: `*.yaml`/`*.yml` keys directly under `prefix` (so an
 * `incoming/` folder beside them is not part of the catalog), except the project config
 * (`cohorts.config.yaml`) that lives beside them. A key deleted between list and get is simply
 * not there.
 */
export async function blobDefinitionFiles(blobs: BlobStore, prefix = ''): Promise<DefinitionFile[]> {
  const isDefinition = (name: string) => DEFINITION_KEY.test(name) && !name.includes('/') && name !== CONFIG_FILE;
  return readBlobFiles(
    blobs,
    (await blobs.list(prefix)).filter((key) => isDefinition(key.slice(prefix.length))),
  );
}

/** The named actions of a blob store: `*.yaml`/`*.yml` keys directly under `<prefix>actions/`. */
export async function blobActionFiles(blobs: BlobStore, prefix = ''): Promise<DefinitionFile[]> {
  const folder = `${prefix}${ACTIONS_FOLDER}/`;
  const isAction = (key: string) => key.startsWith(folder) && DEFINITION_KEY.test(key) && !key.slice(folder.length).includes('/');
  return readBlobFiles(blobs, (await blobs.list(folder)).filter(isAction));
}

async function readBlobFiles(blobs: BlobStore, keys: readonly string[]): Promise<DefinitionFile[]> {
  const files = await Promise.all(
    keys.map(async (key) => {
      const bytes = await blobs.get(key);
      return bytes === undefined ? undefined : { key, path: blobs.locate(key), text: Buffer.from(bytes).toString('utf8') };
    }),
  );
  return files.filter((file) => file !== undefined);
}

/** The uploaded lists of a blob store: every key directly under `<prefix>lists/`, read as text. */
export async function blobListFiles(blobs: BlobStore, prefix = ''): Promise<DefinitionFile[]> {
  const folder = `${prefix}${LISTS_FOLDER}/`;
  const isList = (key: string) => key.startsWith(folder) && key.length > folder.length && !key.slice(folder.length).includes('/');
  return readBlobFiles(blobs, (await blobs.list(folder)).filter(isList));
}

/**
 * Definitions in a blob store (the definitions bucket in the cloud): `*.yaml`/`*.yml` keys
 * directly under `prefix`, with the named actions under `<prefix>actions/` and the uploaded lists
 * of `<prefix>lists/`, validated together as `loadCatalog` does. Each definition's path is where
 * its blob lives (an s3:// URI), which manifests record.
 */
export function blobDefinitions(blobs: BlobStore, prefix = ''): DefinitionsSource {
  return async () =>
    buildCatalog(await blobDefinitionFiles(blobs, prefix), await blobActionFiles(blobs, prefix), await blobListFiles(blobs, prefix));
}
