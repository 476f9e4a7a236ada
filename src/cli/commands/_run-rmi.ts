import { removeImages } from '../../engine/images/index.js';
import type { Store } from '../../engine/index.js';

/**
 * `run --rmi`: once the container has exited, its image goes as `rmi NAME` would take it (a name
 * of several is only untagged). An image still in use stays, and the run keeps its exit code:
 * podman logs the failure and carries on.
 */
export async function removeImageAfterRun(store: Store, name: string): Promise<void> {
  try {
    const { failures } = await removeImages(store, [name]);
    for (const e of failures) process.stderr.write(`Error: ${e.message}\n`);
  } catch (e) {
    process.stderr.write(`Error: ${(e as Error).message}\n`);
  }
}
