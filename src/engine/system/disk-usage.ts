import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { errnoCode } from '../../util/errors.js';
import { overlayDirs } from '../../store/overlay.js';
import { volumeDataDir } from '../volumes/volumes.js';

/**
 * Bytes under a directory as containers/storage counts them (`directory.Size`): the size of every
 * entry that is not a directory, a hard-linked file once. A missing directory is 0, and so is an
 * entry that vanishes while it is walked (a running container writes on).
 */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return;
      throw e;
    }
    for (const entry of entries) {
      const p = join(path, entry.name);
      if (entry.isDirectory()) {
        await walk(p);
        continue;
      }
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}

/** A container's own bytes: its writable layer (podman's SizeRw). */
export function containerSize(store: Store, c: ContainerRecord): Promise<number> {
  return directorySize(overlayDirs(store.containerDir(c.id)).upper);
}

/** A volume's content. */
export function volumeSize(store: Store, name: string): Promise<number> {
  return directorySize(volumeDataDir(store, name));
}
