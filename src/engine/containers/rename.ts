import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { getContainer } from './lifecycle.js';

/** Gives a container a new name, refused when another container has it. */
export async function renameContainer(store: Store, nameOrId: string, newName: string): Promise<void> {
  const c = await getContainer(store, nameOrId);
  await store.updateContainers((all) => {
    if (all.some((x) => x.name === newName && x.id !== c.id)) {
      throw new BerthError('CONTAINER_EXISTS', `the container name "${newName}" is already in use by another container: that name is already in use`);
    }
    const rec = all.find((x) => x.id === c.id);
    if (rec) rec.name = newName;
  });
}
