import { join } from 'node:path';
import type { Descriptor } from '../oci/manifest.js';
import { RecordFile } from './record-file.js';
import type { Store } from './store.js';

/** One image of a list: its descriptor as the index names it, and where its manifest can be read. */
export interface ManifestListEntry {
  descriptor: Descriptor;
  /** `docker://registry/repo@digest` for an image added from a registry, `berth:<image ID>` for a local one. */
  source: string;
}

/**
 * A manifest list being put together (`manifest create/add/annotate`), kept as data rather than
 * as an index blob: each `add` rewrites it, and the index bytes are made when it is inspected or
 * pushed. Its ID stays the same through every change, as podman's does.
 */
export interface ManifestListRecord {
  id: string;
  /** Fully qualified names, `registry/repo:tag`, as image names are stored. */
  names: string[];
  /** The index's own media type: a Docker manifest list unless pushed as OCI. */
  mediaType: string;
  annotations?: Record<string, string>;
  entries: ManifestListEntry[];
  created: string;
}

function recordFile(store: Store): RecordFile<ManifestListRecord> {
  return new RecordFile<ManifestListRecord>(join(store.root, 'manifest-lists.json'), 'lists');
}

export function manifestLists(store: Store): Promise<ManifestListRecord[]> {
  return recordFile(store).read();
}

/** Read-modify-write of the list records under the store lock. */
export async function updateManifestLists<T>(store: Store, fn: (lists: ManifestListRecord[]) => Promise<T> | T): Promise<T> {
  const file = recordFile(store);
  return store.lock.with(async () => {
    const lists = await file.read();
    const result = await fn(lists);
    await file.write(lists);
    return result;
  });
}
