import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { makeDirs } from '../util/dirs.js';
import { join } from 'node:path';
import { isTokenAlive, processToken } from '../util/process.js';

/**
 * Temp space inside the store (same filesystem, so finished work is published with a rename).
 * Each process works under tmp/PID-START/; on open, directories of processes that are gone (killed
 * with -9, or a crash) are removed. Live processes' work is left alone.
 */
export class TempSpace {
  constructor(readonly dir: string) {}

  private get mine(): string {
    return join(this.dir, processToken());
  }

  async make(prefix: string): Promise<string> {
    await makeDirs(this.mine);
    return mkdtemp(join(this.mine, `${prefix}-`));
  }

  /** A fresh path inside this process's temp space (not created). */
  async path(name: string): Promise<string> {
    await makeDirs(this.mine);
    return join(this.mine, `${name}-${Math.random().toString(36).slice(2, 10)}`);
  }

  async cleanStale(): Promise<void> {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return;
    }
    const stale = entries.filter((e) => !isTokenAlive(e));
    if (stale.length > 0) await Promise.all(stale.map((e) => rm(join(this.dir, e), { recursive: true, force: true })));
  }

  async cleanMine(): Promise<void> {
    // Most commands made none: a stat, not a round trip through the thread pool.
    if (existsSync(this.mine)) await rm(this.mine, { recursive: true, force: true });
  }
}
