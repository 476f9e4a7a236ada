import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError } from '../../util/errors.js';

/**
 * A path inside a container's root, resolved as the container would see it: every symlink on the
 * way is followed relative to the root (an absolute target starts again at the root, `..` never
 * climbs above it), so a link in the image cannot send a copy to the host's files. The last
 * component is followed only with `followLast`. Missing components are kept as they are.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
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
    const host = join(root, ...resolved, part);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++links > 40) throw new BerthError('USAGE', `too many levels of symbolic links resolving ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** A reader of text files inside a container's root, paths resolved as {@link resolveInRoot} does. */
export function rootReader(root: string): (path: string) => Promise<string> {
  return async (path) => readFile(await resolveInRoot(root, path), 'utf8');
}
