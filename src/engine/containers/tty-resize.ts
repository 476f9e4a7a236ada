// Resizing a running container's terminal (Docker's POST /containers/{id}/resize), through conmon's ctl fifo.
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { sendResize } from './attach.js';
import { getContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';

/**
 * Sets the container's terminal size. One that is not running is a state error; one without a
 * terminal has nothing to resize, which is not an error (as with dockerd, whose runtime shim
 * ignores a resize of a process without a console).
 */
export async function resizeContainerTty(store: Store, nameOrId: string, rows: number, columns: number): Promise<void> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status !== 'running' && c.state.status !== 'paused')
    throw new BerthError('CONTAINER_STATE', `container ${c.id} is not running: container state improper`);
  if (!c.config.tty) return;
  sendResize(containerPaths(store, c.id).ctl, rows, columns);
}
