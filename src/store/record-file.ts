import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode } from '../util/errors.js';

/**
 * One kind of record (images, containers, volumes) in one small JSON file, `{version: 1, <key>:
 * [...]}`, rewritten whole and atomically under the store lock. Readers need no lock: the rename
 * replaces the file at once, so they see the old list or the new one.
 */
export class RecordFile<T> {
  constructor(
    readonly path: string,
    private readonly key: string,
  ) {}

  async read(): Promise<T[]> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
      return (parsed[this.key] as T[] | undefined) ?? [];
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Caller holds the store lock. */
  async write(records: T[]): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify({ version: 1, [this.key]: records }));
  }
}
