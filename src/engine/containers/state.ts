import { existsSync, watch, type FSWatcher } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { makeDirs } from '../../util/dirs.js';
import { basename, dirname, join } from 'node:path';
import type { ContainerRecord, ContainerState } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { containerPaths, runRootOf } from './paths.js';

const LIVE = new Set(['running', 'paused', 'stopping']);

/** What conmon wrote when the container ended: its exit code and when. */
export async function readExitFile(path: string): Promise<{ code: number; at: string } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    // Caught between conmon's open and its write: not there yet.
    if (text.trim() === '') return undefined;
    const code = Number.parseInt(text.trim(), 10);
    return { code: Number.isNaN(code) ? -1 : code, at: st.mtime.toISOString() };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The true state of a container whose record says it runs: conmon's exit file (the container
 * ended, by itself or killed from outside), or neither the container nor its monitor alive (both
 * killed) means it has exited. Returns the new state, or undefined when the record is right.
 */
export async function observedState(store: Store, c: ContainerRecord): Promise<ContainerState | undefined> {
  if (!LIVE.has(c.state.status)) return undefined;
  const exit = await readExitFile(containerPaths(store, c.id).exitFile);
  if (exit) return { ...c.state, status: 'exited', exitCode: exit.code, finishedAt: exit.at, oomKilled: await oomKilled(store, c), pid: 0, conmonPid: 0 };
  if (!alive(c.state.pid) && !alive(c.state.conmonPid)) {
    return { ...c.state, status: 'exited', exitCode: c.state.exitCode || -1, finishedAt: new Date().toISOString(), pid: 0, conmonPid: 0 };
  }
  return undefined;
}

async function oomKilled(store: Store, c: ContainerRecord): Promise<boolean> {
  return existsSync(join(containerPaths(store, c.id).persist, 'oom'));
}

/**
 * Records what `observedState` sees for every container (or those `which` picks), under the lock,
 * and returns all the records.
 */
export async function syncContainers(store: Store, which: (c: ContainerRecord) => boolean = () => true): Promise<ContainerRecord[]> {
  await refreshAfterReboot(store);
  const containers = await store.containers();
  const changes = new Map<string, ContainerState>();
  await Promise.all(containers.filter(which).map(async (c) => {
    const s = await observedState(store, c);
    if (s) changes.set(c.id, s);
  }));
  if (changes.size === 0) return containers;
  return store.updateContainers((all) => {
    for (const c of all) {
      const s = changes.get(c.id);
      if (s && LIVE.has(c.state.status)) c.state = s;
    }
    return all.map((c) => ({ ...c }));
  });
}

/**
 * The run root is a tmpfs: when its marker is gone the machine has restarted, and containers
 * recorded as running, paused or mounted are not. They are marked exited and unmounted (the
 * kernel forgot the mounts), as podman's refresh does.
 */
export async function refreshAfterReboot(store: Store): Promise<void> {
  const marker = join(runRootOf(store), 'alive');
  if (existsSync(marker)) return;
  // First, so that a run root that cannot be made (a regular file there) changes no record.
  await makeDirs(runRootOf(store));
  await store.updateContainers((all) => {
    for (const c of all) {
      if (LIVE.has(c.state.status)) {
        c.state = { ...c.state, status: 'exited', pid: 0, conmonPid: 0, finishedAt: c.state.finishedAt ?? new Date().toISOString(), helpers: [] };
      }
      c.state.mounted = false;
      // The kernel forgot the namespaces, veths and rules too, and the leases were in the run root.
      delete c.state.network;
    }
  });
  await writeFile(marker, `${Date.now()}\n`);
}

/**
 * Waits for conmon's exit file; resolves with the code, or undefined at the deadline. Woken by
 * inotify on the exits directory (a foreground run's exit is seen at once), with a slow poll
 * behind it in case the watch cannot be set or misses the rename.
 */
export async function waitForExitFile(path: string, timeoutMs = Infinity): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path)) wake?.();
    });
    watcher.on('error', () => undefined);
  } catch {
    // no watch (the directory is missing, or inotify is exhausted): polling alone
  }
  try {
    for (;;) {
      const exit = await readExitFile(path);
      if (exit) return exit.code;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
  }
}
