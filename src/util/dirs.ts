import { mkdirSync, statSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from './errors.js';

/**
 * `mkdir -p`: makes `path` and any missing parents (each with `mode`); a directory already there is
 * fine. Node's own `mkdir({ recursive: true })` retries forever where a parent exists but the
 * child cannot be made (ENOENT inside /proc/self, for one): here every error the retry cannot fix
 * is thrown, naming the path.
 */
export async function makeDirs(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, mode === undefined ? undefined : { mode });
    return;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST' && (await isDirectory(path))) return;
    if (errnoCode(e) !== 'ENOENT') throw e;
    const parent = dirname(path);
    if (parent === path) throw e;
    await makeDirs(parent, mode);
  }
  // The parent is there now: a second ENOENT means this directory cannot be made at all.
  try {
    await mkdir(path, mode === undefined ? undefined : { mode });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST' && (await isDirectory(path))) return; // made meanwhile by someone else
    throw e;
  }
}

/**
 * makeDirs in synchronous calls: for the few directories every command makes sure of (the store's
 * root and temp space), where each call is microseconds and a thread-pool round trip costs more.
 * The same steps as makeDirs, kept apart from it: makeDirs also serves paths a user names (bind
 * sources, volumes), where a slow file system must not stall the API service's other requests.
 */
export function makeDirsSync(path: string, mode?: number): void {
  try {
    mkdirSync(path, mode === undefined ? undefined : { mode });
    return;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST' && isDirectorySync(path)) return;
    if (errnoCode(e) !== 'ENOENT') throw e;
    const parent = dirname(path);
    if (parent === path) throw e;
    makeDirsSync(parent, mode);
  }
  try {
    mkdirSync(path, mode === undefined ? undefined : { mode });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST' && isDirectorySync(path)) return;
    throw e;
  }
}

function isDirectorySync(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** The names in a directory, none when it does not exist (yet). */
export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
}
