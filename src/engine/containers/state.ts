import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { makeDirs } from '../../util/dirs.js';
import { basename, dirname, join } from 'node:path';
import type { ContainerRecord, ContainerState, StoredContainer } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { DirLock } from '../../util/lock.js';
import { DirChanges } from '../../util/dir-changes.js';
import { isPidRunning } from '../../util/process.js';
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

/**
 * The true state of a container whose record says it runs: conmon's exit file (the container
 * ended, by itself or killed from outside), or neither the container nor its monitor alive (both
 * killed) means it has exited. Returns the new state, or undefined when the record is right.
 */
export async function observedState(store: Store, c: ContainerRecord): Promise<ContainerState | undefined> {
  if (!LIVE.has(c.state.status)) return undefined;
  const exit = await readExitFile(containerPaths(store, c.id).exitFile);
  if (exit) return { ...c.state, status: 'exited', exitCode: exit.code, finishedAt: exit.at, oomKilled: await oomKilled(store, c), pid: 0, conmonPid: 0 };
  // Running, not merely there: a killed conmon and its container stay zombies until init reaps them.
  if (!isPidRunning(c.state.pid) && !isPidRunning(c.state.conmonPid)) {
    return { ...c.state, status: 'exited', exitCode: c.state.exitCode || -1, finishedAt: new Date().toISOString(), pid: 0, conmonPid: 0 };
  }
  return undefined;
}

async function oomKilled(store: Store, c: ContainerRecord): Promise<boolean> {
  return existsSync(join(containerPaths(store, c.id).persist, 'oom'));
}

/** One DirLock object per container lock in this process, so that a nested take in the same flow re-enters. */
const locks = new Map<string, DirLock>();

function containerLock(store: Store, id: string): DirLock {
  const path = containerPaths(store, id).lock;
  let lock = locks.get(path);
  if (!lock) {
    lock = new DirLock(path);
    locks.set(path, lock);
  }
  return lock;
}

/** One lifecycle operation at a time per container (start, stop, cleanup, rm, state changes), across processes. */
export async function withContainerLock<T>(store: Store, id: string, fn: () => Promise<T>): Promise<T> {
  await makeDirs(store.containerDir('.'));
  return containerLock(store, id).with(fn, 5 * 60_000);
}

/**
 * Changes one container's state under its lock (taken here, or re-entered when the caller holds
 * it): its state file is read, patched and replaced; nothing else in the store is written.
 * `c` gives the settings returned with the new state (and the state of a record from an older berth).
 */
export async function updateContainerState(
  store: Store,
  c: StoredContainer,
  patch: Partial<ContainerState> | ((s: ContainerState) => Partial<ContainerState>),
  /** Synced to disk: by default unless the container is volatile (--rm, a build's RUN). */
  durable = !(c.config.volatile || c.config.autoRemove),
): Promise<ContainerRecord> {
  return withContainerLock(store, c.id, async () => {
    const current = (await store.containerWithState(c)).state;
    if (current.status === 'removing' && !existsSync(store.containerDir(c.id))) {
      throw new BerthError('CONTAINER_UNKNOWN', `no container with ID ${c.id} found: no such container`);
    }
    const state = { ...current, ...(typeof patch === 'function' ? patch(current) : patch) };
    await store.writeContainerState(c.id, state, durable).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('CONTAINER_UNKNOWN', `no container with ID ${c.id} found: no such container`);
      throw e;
    });
    return { ...c, state };
  });
}

/**
 * What `observedState` sees for every container (or those `which` picks), recorded in each one's
 * state file when its lock is free (a container busy in another command is left to that command),
 * and returned with all the records.
 */
export async function syncContainers(store: Store, which: (c: ContainerRecord) => boolean = () => true): Promise<ContainerRecord[]> {
  await refreshAfterReboot(store);
  const containers = await store.containers();
  return Promise.all(containers.map((c) => (which(c) ? syncOne(store, c) : c)));
}

/** One container with its observed state (recorded when its lock is free). */
export async function syncOne(store: Store, c: ContainerRecord): Promise<ContainerRecord> {
  const seen = await observedState(store, c);
  if (!seen) return c;
  const recorded = await containerLock(store, c.id)
    .tryWith(async () => {
      // Read again under the lock: another command may have recorded the exit, and more, meanwhile.
      const now = await store.containerWithState(c);
      const again = existsSync(store.containerDir(c.id)) ? await observedState(store, now) : undefined;
      if (!again) return now;
      await store.writeContainerState(c.id, again, !(c.config.volatile || c.config.autoRemove));
      return { ...c, state: again };
    })
    .catch(() => undefined);
  return recorded?.value ?? { ...c, state: seen };
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
  for (const record of await store.containerRecords()) {
    await updateContainerState(store, record, (s) => ({
      ...(LIVE.has(s.status) ? { status: 'exited' as const, pid: 0, conmonPid: 0, finishedAt: s.finishedAt ?? new Date().toISOString(), helpers: [] } : {}),
      mounted: false,
      // The kernel forgot the namespaces, veths and rules too, and the leases were in the run root.
      network: undefined,
    })).catch(() => undefined);
  }
  await writeFile(marker, `${Date.now()}\n`);
}

/**
 * Waits for conmon's exit file; resolves with the code, or undefined at the deadline. Woken by
 * inotify on the exits directory (a foreground run's exit is seen at once), with a slow poll
 * behind it in case the watch cannot be set or misses the rename. `endedWithout`, asked at each
 * wake: the process ended where no file will come (its monitor killed); then -1, the code
 * observedState gives such an end.
 */
export async function waitForExitFile(path: string, timeoutMs = Infinity, endedWithout?: () => boolean): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  const changes = new DirChanges(dirname(path), basename(path));
  try {
    for (;;) {
      const exit = await readExitFile(path);
      if (exit) return exit.code;
      if (endedWithout?.()) return -1;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await changes.next(Math.min(100, left));
    }
  } finally {
    changes.close();
  }
}
