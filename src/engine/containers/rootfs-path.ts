import { closeSync, constants, openSync, type Stats } from 'node:fs';
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError } from '../../util/errors.js';

/**
 * A container's file system as seen from the host: its root, plus the directories mounted over
 * paths inside it (volumes and bind mounts of a container that is not running, whose mounts exist
 * only as records). A path under a mount's destination lives in that mount's source.
 */
export interface RootView {
  root: string;
  mounts: readonly { destination: string; source: string }[];
}

/** Where a clean absolute container path lives on the host: under the deepest mount covering it, else under the root. */
export function hostPathIn(view: RootView, containerPath: string): string {
  let best: { destination: string; source: string } | undefined;
  for (const m of view.mounts) {
    const d = posix.normalize(`/${m.destination}`).replace(/\/$/, '') || '/';
    const covers = containerPath === d || containerPath.startsWith(d === '/' ? '/' : `${d}/`);
    if (covers && (!best || d.length >= best.destination.length)) best = { destination: d, source: m.source };
  }
  if (!best) return containerPath === '/' ? view.root : join(view.root, containerPath);
  const rest = containerPath.slice(best.destination.length);
  return rest === '' || rest === '/' ? best.source : join(best.source, rest);
}

/**
 * A path inside a container, resolved as the container would see it: every symlink on the way is
 * followed relative to the container's root (an absolute target starts again at the root, `..`
 * never climbs above it), so a link in the image cannot send a copy to the host's files. The last
 * component is followed only with `followLast`. Missing components are kept as they are. Returns
 * the clean container path and where it lives on the host.
 */
export async function resolveInView(view: RootView, path: string, followLast = true): Promise<{ path: string; host: string }> {
  const parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = hostPathIn(view, `/${[...resolved, part].join('/')}`);
    const st = await lstatInView(view, host);
    if (st?.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++links > 40) throw new BerthError('USAGE', `too many levels of symbolic links resolving ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  const clean = `/${resolved.join('/')}`;
  return { path: clean, host: hostPathIn(view, clean) };
}

/**
 * lstat of a host path in a view, except that the root and the mounts' sources are followed: they
 * are what the container sees at those paths (`/proc/PID/root` is itself a link, and a bind mount
 * of a host symlink mounts its target).
 */
export async function lstatInView(view: RootView, host: string): Promise<Stats | undefined> {
  const follow = host === view.root || view.mounts.some((m) => m.source === host);
  return (follow ? stat(host) : lstat(host)).catch(() => undefined);
}

/** An open directory, named by a path that reaches it through its descriptor. */
export interface OpenDir {
  /** `/proc/self/fd/N`: names under it are looked up in that very directory. */
  path: string;
  fd: number;
}

const O_DIR_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Opens a directory of the view by its clean container path (as {@link resolveInView} returns it),
 * one component at a time with O_NOFOLLOW from the root or mount it lies under. A link swapped in
 * after the path was resolved (a running container can do that) makes this fail instead of leading
 * to the host's files. Returns undefined when a component does not exist. The caller closes `fd`.
 */
export function openDirInView(view: RootView, containerPath: string): OpenDir | undefined {
  let start = containerPath;
  let base = hostPathIn(view, containerPath);
  // Walk up to the root or the mount the path lies under: that one is trusted and may be a link.
  const rest: string[] = [];
  while (start !== '/' && base !== view.root && !view.mounts.some((m) => m.source === base)) {
    rest.unshift(posix.basename(start));
    start = posix.dirname(start);
    base = hostPathIn(view, start);
  }
  let fd: number;
  try {
    fd = openSync(base, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  for (const part of rest) {
    let next: number;
    try {
      next = openSync(`/proc/self/fd/${fd}/${part}`, O_DIR_NOFOLLOW);
    } catch (e) {
      closeSync(fd);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    closeSync(fd);
    fd = next;
  }
  return { path: `/proc/self/fd/${fd}`, fd };
}

/** {@link resolveInView} for a root with nothing mounted in it: the host path. */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  return (await resolveInView({ root, mounts: [] }, path, followLast)).host;
}

/** A reader of text files inside a container's root, paths resolved as {@link resolveInRoot} does. */
export function rootReader(root: string): (path: string) => Promise<string> {
  return async (path) => readFile(await resolveInRoot(root, path), 'utf8');
}
