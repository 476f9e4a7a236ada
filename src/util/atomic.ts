import { closeSync, fsync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { makeDirs } from './dirs.js';
import { randomBytes } from './crypto.js';
import { dirname, join, basename } from 'node:path';

/** fsync(2) of a descriptor, on the thread pool: the one step here that waits on the disk. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/** fsync a directory so that a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * a temp file beside it, fsync, rename over, fsync the directory. With `durable` false, no fsync:
 * a kill -9 still leaves the old file or the new one (the rename does that), but a power loss may
 * leave the old one; for what a reboot makes stale anyway.
 *
 * Only the fsyncs go through the thread pool: the open, write, close and rename of a record (a
 * few kB into the page cache) are synchronous calls of microseconds, where each through the pool
 * cost a round trip, and a command writes its records several times.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, durable = true): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, data);
    if (durable) await fsyncFd(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

/**
 * Makes a finished temp file visible at `to`: fsync its data, rename it into place (creating the
 * directory), fsync the directory. On failure the temp file is removed.
 */
export async function publishFile(from: string, to: string, opts: { synced?: boolean } = {}): Promise<void> {
  if (!opts.synced) {
    const fh = await open(from, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await makeDirs(dirname(to));
  try {
    await rename(from, to);
  } catch (e) {
    await rm(from, { force: true });
    throw e;
  }
  await fsyncDir(dirname(to));
}
