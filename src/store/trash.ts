import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirs } from '../util/dirs.js';
import { errnoCode } from '../util/errors.js';
import { isTokenAlive, processStartTime, processToken } from '../util/process.js';

/**
 * What the store no longer uses, waiting to be deleted: `trash/<owner token>/<entry>`. A sweep
 * renames a layer tree or a blob in here under the store lock (one atomic rename, so the store
 * is whole after a kill -9 at any point); deleting it is the slow part (a 200 MB layer is
 * thousands of blocks to free), and no command waits on it: at close the entries are handed to a
 * detached `rm`, and what a killed process left is handed on at the next open.
 *
 * The owner is a process token (util/process.ts). A directory whose owner runs is left alone: it
 * is the command that fills it, or the `rm` that empties it (the directory is renamed to the `rm`'s
 * own token once it runs, and `rm` is given names relative to its working directory, so the rename
 * does not disturb it). Everything in here was unreferenced when it was moved, so deleting it
 * twice (two opens handing on one dead owner's directory at once) is harmless.
 */
export class Trash {
  constructor(readonly dir: string) {}

  private get mine(): string {
    return join(this.dir, processToken());
  }

  /** A fresh path to rename something into (not created). */
  async path(name: string): Promise<string> {
    await makeDirs(this.mine);
    return join(this.mine, `${name}-${Math.random().toString(36).slice(2, 10)}`);
  }

  /** Hands this process's entries to a detached `rm`, without waiting for it. */
  async empty(): Promise<void> {
    // Most commands moved nothing here: a stat, not a round trip through the thread pool.
    if (existsSync(this.mine)) await this.handOff(this.mine);
  }

  /** Hands on what processes that are gone left here (killed before or while deleting it). */
  async sweep(): Promise<void> {
    let owners: string[];
    try {
      owners = readdirSync(this.dir);
    } catch {
      return;
    }
    const gone = owners.filter((t) => !isTokenAlive(t));
    if (gone.length > 0) await Promise.all(gone.map((t) => this.handOff(join(this.dir, t))));
  }

  private async handOff(dir: string): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw e;
    }
    if (entries.length === 0) {
      await rmdir(dir).catch(() => undefined);
      return;
    }
    const pid = spawnDeleter(dir, entries);
    const start = pid === undefined ? undefined : processStartTime(pid);
    if (start === undefined) {
      // No `rm` (or it is done already): delete here.
      if (pid === undefined) await Promise.all(entries.map((e) => rm(join(dir, e), { recursive: true, force: true })));
      await rmdir(dir).catch(() => undefined);
      return;
    }
    // Another process handing the same directory on may have renamed it first: its `rm` deletes it.
    await rename(dir, join(this.dir, `${pid}-${start}`)).catch(() => undefined);
  }
}

/** Starts `rm -rf` on `entries` (names inside `cwd`) in its own session, detached; its PID, or undefined if it could not start. */
function spawnDeleter(cwd: string, entries: string[]): number | undefined {
  try {
    const child = spawn('rm', ['-rf', '--', ...entries], { cwd, detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}
