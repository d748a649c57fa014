/** The deployment's view of store selection: a fresh database per call, with the one-line reason and a stop(). */
import type { StoreChoice } from '../config.ts';
import { selectStore } from '../store/select-store.ts';
import type { SelectedStore } from '../store/select-store.ts';

export type ProvisionedStore = SelectedStore;

/** Resolves `choice` (and the URI, else MONGODB_URI) into a fresh database; StoreSelectionError when `mongo` cannot be had. */
export function provisionStore(choice: StoreChoice, mongoUri: string | undefined): Promise<ProvisionedStore> {
  return selectStore({ choice, mongoUri });
}
