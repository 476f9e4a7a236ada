// Docker's wait conditions (`not-running`, `next-exit`, `removed`) over berth's records: what the
// API's POST /containers/{id}/wait answers, where a client such as `docker run --rm` asks before
// the start and must learn the exit code even though the container is gone by then.
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { DirChanges } from '../../util/dir-changes.js';
import { getContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';
import { readExitFile, waitForExitFile } from './state.js';
import type { ContainerRecord } from '../../store/containers.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const LIVE = new Set(['running', 'paused', 'stopping', 'removing']);

/** The container, or undefined once it is gone. */
async function current(store: Store, id: string): Promise<ContainerRecord | undefined> {
  try {
    return await getContainer(store, id);
  } catch (e) {
    if (e instanceof BerthError && e.code === 'CONTAINER_UNKNOWN') return undefined;
    throw e;
  }
}

/**
 * Waits until the container meets the condition and returns its exit code: `not-running` at once
 * for a container that is not running; `next-exit` after the exit that follows the call (a created
 * container must first start); `removed` once it is gone (its exit code from conmon's exit file,
 * which a --rm removal keeps). Fails with CONTAINER_UNKNOWN when it does not exist at the call.
 */
export async function waitForCondition(store: Store, nameOrId: string, condition: WaitCondition, signal?: AbortSignal): Promise<number> {
  const first = await getContainer(store, nameOrId);
  const exitFile = containerPaths(store, first.id).exitFile;
  const finishedBefore = first.state.status === 'exited' ? first.state.finishedAt : undefined;
  let lastCode = first.state.exitCode;
  let sawExit = false;
  // Its state file is replaced at each change (a start, a cleanup, an rm's `removing`), and the
  // directory goes with the container: watched, with a slow poll behind the watch.
  const changes = new DirChanges(store.containerDir(first.id));
  try {
    for (;;) {
      if (signal?.aborted) throw new BerthError('CONTAINER_STATE', 'the wait was abandoned');
      const c = await current(store, first.id);
      if (!c) return sawExit ? lastCode : ((await readExitFile(exitFile))?.code ?? lastCode);
      const live = LIVE.has(c.state.status);
      if (!live && c.state.status === 'exited') {
        lastCode = c.state.exitCode;
        sawExit = true;
      }
      if (condition === 'not-running' && !live) return c.state.exitCode;
      if (condition === 'next-exit' && c.state.status === 'exited' && c.state.finishedAt !== finishedBefore) return c.state.exitCode;
      // A running container's exit shows first in conmon's exit file (watched as well); a removal's
      // (which keeps that file) in its state and directory.
      if (live && c.state.status !== 'removing') await waitForExitFile(exitFile, 250);
      else await changes.next(250);
    }
  } finally {
    changes.close();
  }
}
