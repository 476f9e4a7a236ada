import type { Store } from '../../store/store.js';
import type { ContainerRecord } from '../../store/containers.js';
import { shmSizeOption } from '../../runtime/spec.js';
import { mountTmpfs, unmountAll } from '../../util/mounts.js';
import { containerPaths, type ContainerPaths } from './paths.js';

/**
 * A pod's /dev/shm, as podman shares it: joining the infra's IPC namespace shares System V IPC,
 * but POSIX shared memory and semaphores are files in /dev/shm, which a tmpfs of each container's
 * own would keep apart. So the infra's /dev/shm is a tmpfs mounted on the host, in its bundle,
 * while it runs, and every member that shares the pod's IPC binds that same directory.
 */
export function sharedShmDir(store: Store, c: ContainerRecord): string | undefined {
  const pod = c.config.pod;
  if (pod?.infra) return containerPaths(store, c.id).shm;
  if (pod?.infraId && pod.joins?.includes('ipc')) return containerPaths(store, pod.infraId).shm;
  return undefined;
}

/** The infra's tmpfs, mounted before its runtime creates it (nothing to do for any other container). */
export async function mountInfraShm(c: ContainerRecord, paths: ContainerPaths): Promise<void> {
  if (c.config.pod?.infra) await mountTmpfs(paths.shm, `mode=1777,size=${shmSizeOption(c.config.tuning?.shmSize)}`);
}

/** Unmounted when the infra stops or goes, with its root. */
export async function unmountInfraShm(c: ContainerRecord, paths: ContainerPaths): Promise<void> {
  if (c.config.pod?.infra) await unmountAll(paths.shm, "the pod's /dev/shm");
}
