import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, errnoCode } from './errors.js';
import { isTokenAlive, processToken } from './process.js';

/**
 * An inter-process lock that survives kill -9: Node has no flock(), so the lock is a directory made
 * with mkdir (atomic) holding the owner's PID and start time. A lock whose owner has died is
 * broken by renaming it away, which only one waiter can win.
 */
export class DirLock {
  private held = 0;
  constructor(readonly path: string) {}

  async acquire(timeoutMs = 60_000): Promise<void> {
    if (this.held > 0) {
      this.held++;
      return;
    }
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      try {
        await mkdir(this.path);
        await writeFile(`${this.path}/owner`, processToken());
        this.held = 1;
        return;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
      }
      await this.breakIfStale();
      if (Date.now() > deadline) {
        throw new BerthError('LOCKED', `timed out waiting for lock ${this.path}`, { temporary: true });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  async release(): Promise<void> {
    if (this.held === 0) return;
    if (--this.held > 0) return;
    const doomed = `${this.path}.released-${randomBytes(4).toString('hex')}`;
    await rename(this.path, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  async with<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  private async breakIfStale(): Promise<void> {
    let owner: string;
    try {
      owner = (await readFile(`${this.path}/owner`, 'utf8')).trim();
    } catch (e) {
      // The owner file is written right after mkdir; give a live owner a moment before judging.
      if (errnoCode(e) !== 'ENOENT') throw e;
      owner = '';
      await sleep(20);
      try {
        owner = (await readFile(`${this.path}/owner`, 'utf8')).trim();
      } catch {
        /* still none: the owner died between mkdir and write */
      }
    }
    if (owner !== '' && isTokenAlive(owner)) return;
    const doomed = `${this.path}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(this.path, doomed);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return; // someone else broke or released it
      throw e;
    }
    // Between our read and the rename, another waiter may have broken the stale lock and a live
    // process taken a new one: if what we moved is live, put it back.
    const moved = await readFile(`${doomed}/owner`, 'utf8').catch(() => '');
    if (moved.trim() !== owner && moved !== '' && isTokenAlive(moved.trim())) {
      await rename(doomed, this.path).catch(() => undefined);
      return;
    }
    await rm(doomed, { recursive: true, force: true });
  }
}
