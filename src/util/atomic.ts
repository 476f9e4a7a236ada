import { open, rename, rm } from 'node:fs/promises';
import { makeDirs } from './dirs.js';
import { randomBytes } from './crypto.js';
import { dirname, join, basename } from 'node:path';

/** fsync a directory so that a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * a temp file beside it, fsync, rename over, fsync the directory. With `durable` false, no fsync:
 * a kill -9 still leaves the old file or the new one (the rename does that), but a power loss may
 * leave the old one; for what a reboot makes stale anyway.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, durable = true): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
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
