import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from '../../store/containers.js';
import { mountOverlay, unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { getContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';
import { updateContainerState } from './state.js';

/** Mounts a container's root (kept mounted until unmount or the container's cleanup) and returns where. */
export async function mountContainer(store: Store, nameOrId: string): Promise<string> {
  const c = await getContainer(store, nameOrId);
  const paths = containerPaths(store, c.id);
  await mountOverlay(
    store.root,
    c.layers.map((l) => store.layers.diffDir(l)),
    paths.overlay,
  );
  await updateContainerState(store, c, { mounted: true });
  return paths.overlay.merged;
}

/** Unmounts a container's root unless the container runs (it needs it). Returns whether it did. */
export async function unmountContainer(store: Store, nameOrId: string): Promise<boolean> {
  const c = await getContainer(store, nameOrId);
  if (c.state.status === 'running' || c.state.status === 'paused') return false;
  await unmountOverlay(containerPaths(store, c.id).overlay);
  await updateContainerState(store, c, { mounted: false });
  return true;
}

/** Runs `fn` with the container's root mounted, unmounting after if it was not mounted before. */
export async function withRootfs<T>(store: Store, nameOrId: string, fn: (rootfs: string, c: ContainerRecord) => Promise<T>): Promise<T> {
  const c = await getContainer(store, nameOrId);
  const paths = containerPaths(store, c.id);
  const wasMounted = c.state.mounted || c.state.status === 'running' || c.state.status === 'paused';
  await mountOverlay(
    store.root,
    c.layers.map((l) => store.layers.diffDir(l)),
    paths.overlay,
  );
  try {
    return await fn(paths.overlay.merged, c);
  } finally {
    if (!wasMounted) await unmountOverlay(paths.overlay).catch(() => undefined);
  }
}

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/**
 * What the container changed, from its upperdir: a whiteout (0:0 device) is a deletion, anything
 * the image's layers also have is a change, the rest is an addition. Sorted by path, as podman.
 */
/**
 * Paths the runtime or berth makes in every container (mount targets for /etc/hosts and the like,
 * the kernel file systems): podman's diff leaves them out, and so does this one.
 */
const INIT_PATHS = new Set([
  '/dev',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/proc',
  '/run',
  '/run/notify',
  '/run/.containerenv',
  '/run/secrets',
  '/sys',
  '/etc/mtab',
]);

export async function containerChanges(store: Store, nameOrId: string): Promise<Change[]> {
  const c = await getContainer(store, nameOrId);
  const upper = containerPaths(store, c.id).overlay.upper;
  const lowers = c.layers.map((l) => store.layers.diffDir(l));
  const inLower = async (rel: string) => {
    for (const l of lowers)
      if (
        await lstat(join(l, rel)).then(
          () => true,
          () => false,
        )
      )
        return true;
    return false;
  };
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = await readdir(join(upper, rel)).catch(() => [] as string[]);
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ kind: 'D', path: `/${r}` });
        continue;
      }
      out.push({ kind: (await inLower(r)) ? 'C' : 'A', path: `/${r}` });
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out.filter((c) => !INIT_PATHS.has(c.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
