import { execFileAsync as exec } from '../util/exec-file.js';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirs } from '../util/dirs.js';
import { BerthError } from '../util/errors.js';
import { isMounted, unmountAll } from '../util/mounts.js';
import { nativeCalls } from '../util/native.js';

/**
 * A container's network namespace, made before the runtime starts and kept as a bind mount under
 * the run root (as podman keeps its own under /run/netns): netavark sets it up and tears it down
 * through this path, so neither depends on the container's process still being there.
 */
export function netnsPath(runRoot: string, containerId: string): string {
  return join(runRoot, 'netns', `berth-${containerId.slice(0, 32)}`);
}

/**
 * Makes a new, empty network namespace pinned at `path`, as util-linux unshare's persistent
 * namespace: by berth's native addon where it is built (no `unshare` child, a fork of the whole
 * process on the way to every bridge start's netavark), else by that program.
 */
export async function createNetns(path: string): Promise<void> {
  await makeDirs(join(path, '..'));
  if (await isMounted(path)) return;
  await writeFile(path, '', { mode: 0o644 });
  try {
    const native = nativeCalls();
    if (native) await native.netns(path);
    else await exec('unshare', [`--net=${path}`, 'true']);
  } catch (e) {
    await rm(path, { force: true });
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new BerthError('IO', `making the container's network namespace: ${stderr || (e as Error).message}`, { cause: e });
  }
}

/** Unpins and removes a namespace made by createNetns; one that is not there is fine. */
export async function removeNetns(path: string): Promise<void> {
  await unmountAll(path, `the network namespace ${path}`);
  await rm(path, { force: true });
}
