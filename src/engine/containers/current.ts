/**
 * A container as the lifecycle's verbs find it (its record with its true state), the runtime it
 * runs on: what start, stop, kill, pause, wait and remove share.
 */
import { OciRuntime } from '../../runtime/oci-runtime.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { isTokenAlive, processToken } from '../../util/process.js';
import { requireContainer } from './lookup.js';
import { runRootOf } from './paths.js';
import { refreshAfterReboot, syncOne } from './state.js';

/** The states in which a container's process may still run. */
export const LIVE_STATES = new Set(['running', 'paused', 'stopping']);

/** The container's record and its state as observed, and nothing more. */
export async function readContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  await refreshAfterReboot(store);
  // One record's state is read and checked: a store with hundreds of containers costs nothing more.
  const record = requireContainer(await store.containerRecords(), nameOrId);
  return syncOne(store, await store.containerWithState(record));
}

/** The caller that owns the container's cleanup was killed (another process's cleanup is its own). */
export function ownerGone(c: ContainerRecord): boolean {
  return c.state.cleanupOwner === 'caller' && c.state.ownerToken !== undefined && c.state.ownerToken !== processToken() && !isTokenAlive(c.state.ownerToken);
}

/** The OCI runtime the container was created with. */
export function runtimeFor(store: Store, c: ContainerRecord): OciRuntime {
  return OciRuntime.resolve(c.config.runtime, runRootOf(store));
}

/** Runtime deletes under way in this process, by container ID. */
const forgetting = new Map<string, Promise<void>>();

/**
 * The runtime forgets an ended container (its state, and its cgroups: slow on cgroup v1), once per
 * process at a time: a foreground run starts it as soon as it reads the exit, so that it overlaps
 * the cleanup's reads and locks, and the cleanup or removal after waits for that same call rather
 * than starting a second one. Never fails (a runtime that no longer knows the container is fine).
 */
export function forgetInRuntime(store: Store, c: ContainerRecord): Promise<void> {
  let deleting = forgetting.get(c.id);
  if (!deleting) {
    deleting = runtimeFor(store, c)
      .delete(c.id, true)
      .catch(() => undefined)
      .finally(() => forgetting.delete(c.id));
    forgetting.set(c.id, deleting);
  }
  return deleting;
}
