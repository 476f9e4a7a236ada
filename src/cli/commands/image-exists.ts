import { withStore } from '../../engine/index.js';
import { findImage } from '../../engine/images/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `image exists NAME`: exit 0 when the store has it (by name, short name, ID or digest), 1 when not; a bad name is an error (125). Prints nothing. */
export async function run(g: GlobalOptions, name: string): Promise<number> {
  return withStore(engineOptions(g), async (store) => (findImage(await store.images(), name) ? 0 : 1));
}
