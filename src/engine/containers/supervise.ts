// Cleanup by a long-lived caller: the API service starts containers as their cleanup's owner and
// cleans up in its own process when they exit, instead of conmon's exit command starting a berth
// process for it (most of the time a `docker run --rm` waits for after its container ends).
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Store } from '../../store/store.js';
import { isPidAlive } from '../../util/process.js';
import { cleanupContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';
import { readExitFile } from './state.js';

/** How often a missed exit is looked for: the watch is the fast path, this its safety net. */
const RECHECK_MS = 2000;

/**
 * Cleans up after the container (started with `cleanupOwner: 'caller'` by this process) once it
 * exits: woken by conmon's exit file (watched), re-checked every few seconds. Neither the watch nor
 * the timer keeps the process alive: when it ends first, its token is gone and conmon's exit command
 * (or the next command that finds the container) cleans up instead. Ends by itself once the
 * container is cleaned up or gone.
 */
export function superviseCleanup(store: Store, id: string, conmonPid: number): void {
  const exitFile = containerPaths(store, id).exitFile;
  let done = false;
  let watcher: FSWatcher | undefined;
  const finish = () => {
    done = true;
    watcher?.close();
    clearInterval(timer);
  };
  const check = async (): Promise<void> => {
    if (done) return;
    const exited = (await readExitFile(exitFile)) !== undefined;
    const stored = await store.containerById(id).catch(() => undefined);
    // conmon's exit file makes two events (created, then written): the check they both started
    // ends here for the second, or both would clean up, one after the other under the lock.
    if (done) return;
    // Gone, or cleaned up by someone else (a stop in this process cleans up itself).
    if (!stored || (!stored.state.mounted && stored.state.status !== 'running')) return finish();
    // conmon killed before the exit: there is no exit file to wait for; the next command cleans up.
    if (!exited && !isPidAlive(conmonPid)) return finish();
    if (!exited) return;
    finish();
    await cleanupContainer(store, id).catch(() => undefined);
  };
  const timer = setInterval(() => void check(), RECHECK_MS);
  timer.unref();
  try {
    watcher = watch(dirname(exitFile), (_event, name) => {
      if (name === null || name === basename(exitFile)) void check();
    });
    watcher.unref();
    watcher.on('error', () => undefined);
  } catch {
    // no watch: the timer alone
  }
  // It may have ended already, before the watch was set.
  void check();
}
