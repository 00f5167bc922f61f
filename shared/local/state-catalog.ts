import { FsBlobStore } from './fs-blob-store.ts';
import { CatalogStore } from '../governance/catalog-store.ts';

/** The catalog of a local state folder: `<state>/catalog/`. */
export function stateCatalog(state: string): CatalogStore {
  return new CatalogStore(new FsBlobStore(state));
}
