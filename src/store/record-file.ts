import { readFileSync } from 'node:fs';
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

  /**
   * Read with one synchronous call: a record file is a few kB, where the thread pool's readFile
   * costs four round trips (open, fstat, read, close), and a command reads its records often.
   */
  async read(): Promise<T[]> {
    try {
      return this.parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** The records in the file's text (none when there is no file); one function, so that a FileCache keeps what it made. */
  readonly parse = (text: string | undefined): T[] => {
    if (text === undefined) return [];
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return (parsed[this.key] as T[] | undefined) ?? [];
  };

  /** Caller holds the store lock. */
  async write(records: T[]): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify({ version: 1, [this.key]: records }));
  }
}
