import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from './crypto.js';
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
  /** Marks the async flow that holds the lock through with(). */
  private readonly flow = new AsyncLocalStorage<boolean>();
  /** The in-process queue of with() callers. */
  private queue: Promise<void> = Promise.resolve();
  /** with() callers of this process queued or holding the lock. */
  private users = 0;
  constructor(readonly path: string) {}

  async acquire(timeoutMs = 60_000): Promise<void> {
    if (this.held > 0) {
      this.held++;
      return;
    }
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      if (await this.tryTake()) {
        this.held = 1;
        return;
      }
      await this.breakIfStale();
      if (Date.now() > deadline) {
        throw new BerthError('LOCKED', `timed out waiting for lock ${this.path}`, { temporary: true });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  /**
   * The lock directory is made complete (owner file inside) under a private name and renamed into
   * place, so that nobody ever sees a lock without its owner and mistakes it for a dead one.
   *
   * Taking and releasing are synchronous calls: each is a few metadata operations on a local
   * directory (microseconds), where the same calls through the thread pool cost a round trip each,
   * ~0.7 ms a take and release, and a command takes the store's and its containers' locks many
   * times. Nothing here waits on the disk (no fsync).
   */
  private async tryTake(): Promise<boolean> {
    // The owner is in the name too: a sweep by another process must know this candidate is live
    // before its owner file exists.
    const candidate = `${this.path}.take-${processToken()}-${randomBytes(6).toString('hex')}`;
    mkdirSync(candidate);
    try {
      writeFileSync(`${candidate}/owner`, processToken());
      renameSync(candidate, this.path);
      return true;
    } catch (e) {
      rmSync(candidate, { recursive: true, force: true });
      const code = errnoCode(e);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      return false;
    }
  }

  async release(): Promise<void> {
    if (this.held === 0) return;
    if (--this.held > 0) return;
    const doomed = `${this.path}.released-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.path, doomed);
    } catch (e) {
      // Gone already (removed by hand, or by an older berth that deleted a container's lock
      // after rm): there is nothing left to release.
      if (errnoCode(e) === 'ENOENT') return;
      throw e;
    }
    try {
      unlinkSync(`${doomed}/owner`);
      rmdirSync(doomed);
    } catch {
      // Something more inside (or the owner file already gone): removed whole.
      rmSync(doomed, { recursive: true, force: true });
    }
  }

  /** Removes what a process killed mid-take or mid-release left beside the lock. */
  async sweepLeftovers(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      if (rest.startsWith('take-')) {
        // take-PID-START-RANDOM: left alone while that process lives (it is between mkdir and rename).
        const [pid, start] = rest.slice('take-'.length).split('-');
        if (isTokenAlive(`${pid}-${start}`)) continue;
      }
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  /**
   * Runs fn holding the lock. Within one process, concurrent callers take turns (the directory
   * alone cannot tell two async flows of the same process apart), while a call nested inside fn's
   * own flow (an update of volumes during an update of containers) re-enters at once.
   */
  async with<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
    if (this.flow.getStore() === true) return fn();
    this.users++;
    let endTurn!: () => void;
    const turn = new Promise<void>((resolve) => (endTurn = resolve));
    const previous = this.queue;
    this.queue = previous.then(() => turn);
    await previous;
    try {
      await this.acquire(timeoutMs);
      try {
        return await this.flow.run(true, fn);
      } finally {
        await this.release();
      }
    } finally {
      this.users--;
      endTurn();
    }
  }

  /**
   * Runs fn holding the lock if it is free now (or already held by this flow); when anyone holds
   * or waits for it, returns undefined at once without running fn.
   */
  async tryWith<T>(fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.flow.getStore() === true) return { value: await fn() };
    if (this.users > 0) return undefined;
    let entered = false;
    try {
      return {
        value: await this.with(() => {
          entered = true;
          return fn();
        }, 0),
      };
    } catch (e) {
      if (!entered && e instanceof BerthError && e.code === 'LOCKED') return undefined;
      throw e;
    }
  }

  private async breakIfStale(): Promise<void> {
    let owner: string;
    try {
      owner = (await readFile(`${this.path}/owner`, 'utf8')).trim();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return; // released meanwhile
      throw e;
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
