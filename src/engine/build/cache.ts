import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { writeFileAtomic } from '../../util/atomic.js';

/** One cached step: the image it made and the image it started from. */
export interface CacheEntry {
  image: string;
  parent: string;
}

/** The index as berth wrote it before the log: one JSON object, rewritten whole at every step. */
interface LegacyCacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** One line of the log. */
interface LogLine extends CacheEntry {
  key: string;
}

/** The log is compacted once it holds this many lines more than twice its live entries. */
const COMPACT_SLACK = 1000;

/**
 * The build cache: an explicit index from a step's key to the (intermediate) image it made. It is
 * an append-only log at the store's root, `build-cache.jsonl`, one JSON line per recorded step,
 * each appended with one O_APPEND write: recording a step costs one short write, not a rewrite of
 * the whole index. A later line for a key wins. The log is compacted (rewritten with only the
 * entries whose image is still in the store) when it has grown well past its live entries, and by
 * `sweep`. `build-cache.json`, the whole-file index older berths wrote, is still read (its entries
 * come first) and is folded into the log at the first compaction.
 *
 * Appends and compactions take the store lock, so that a compaction's rename never drops a line
 * appended while it ran. An entry whose image is gone (removed, pruned) is a miss.
 */
export class BuildCache {
  private readonly logPath: string;
  private readonly legacyPath: string;
  /** lookup()'s view: read once, then kept up to date with this instance's own records. */
  private known: Map<string, CacheEntry> | undefined;

  constructor(private readonly store: Store) {
    this.logPath = join(store.root, 'build-cache.jsonl');
    this.legacyPath = join(store.root, 'build-cache.json');
  }

  /** The key of one step: the image it starts from and what it does (expanded text, content hashes). */
  static key(parentImageId: string, step: string): string {
    return createHash('sha256').update(`${parentImageId}\n${step}`).digest('hex');
  }

  /** Every entry, the legacy file's first, then the log's in order; and how many lines the log has. */
  private async read(): Promise<{ entries: Map<string, CacheEntry>; lines: number; legacy: boolean }> {
    // Through the store's file cache: the service reads the log on every image list (for the
    // intermediate images it hides), and a long log is many lines to parse.
    const legacy = await this.store.files.read(this.legacyPath, parseLegacy);
    const log = await this.store.files.read(this.logPath, parseLog);
    // A map of our own: the parsed files may be shared, and index()'s map is added to.
    const entries = new Map<string, CacheEntry>(legacy ?? []);
    for (const [key, entry] of log.entries) entries.set(key, entry);
    return { entries, lines: log.lines, legacy: legacy !== undefined };
  }

  /** Loads the index for lookups, compacting it first when it has grown too long. */
  private async index(): Promise<Map<string, CacheEntry>> {
    if (this.known) return this.known;
    const { entries, lines, legacy } = await this.read();
    if (legacy || lines > 2 * entries.size + COMPACT_SLACK) {
      await this.compact();
      this.known = (await this.read()).entries;
    } else this.known = entries;
    return this.known;
  }

  /** The image a step made before, if it is still in the store. */
  async lookup(key: string): Promise<string | undefined> {
    const id = (await this.index()).get(key)?.image;
    if (!id) return undefined;
    return (await this.store.images()).some((i) => i.id === id) ? id : undefined;
  }

  /**
   * Images that a cached step started from and whose result is still here: podman's intermediate
   * images, which `images` hides without --all when they have no name.
   */
  async parents(): Promise<Set<string>> {
    const live = new Set((await this.store.images()).map((i) => i.id));
    return new Set([...(await this.read()).entries.values()].flatMap((e) => (live.has(e.image) ? [e.parent] : [])));
  }

  /** Each cached step's image to the image it started from: which images a kept image was built on. */
  async links(): Promise<Map<string, string>> {
    return new Map([...(await this.read()).entries.values()].map((e) => [e.image, e.parent] as const));
  }

  /** The images the cache's steps made. */
  async images(): Promise<Set<string>> {
    return new Set([...(await this.read()).entries.values()].map((e) => e.image));
  }

  /** Drops the entries whose image is gone, or with `all` every entry (every step then runs again). */
  async sweep(opts: { all?: boolean } = {}): Promise<number> {
    const dropped = await this.compact(opts);
    this.known = undefined;
    return dropped;
  }

  /** Appends one step's entry to the log: one write of one line, which O_APPEND keeps whole. */
  async record(key: string, imageId: string, parentId: string): Promise<void> {
    const line = `${JSON.stringify({ key, image: imageId, parent: parentId } satisfies LogLine)}\n`;
    await this.store.lock.with(async () => {
      const fh = await open(this.logPath, 'a', 0o644);
      try {
        await fh.write(line);
      } finally {
        await fh.close();
      }
    });
    this.known?.set(key, { image: imageId, parent: parentId });
  }

  /**
   * Rewrites the log with the live entries only (or none, with `all`), under the store lock, and
   * retires the legacy file. Returns how many entries were dropped.
   */
  private async compact(opts: { all?: boolean } = {}): Promise<number> {
    return this.store.lock.with(async () => {
      const { entries, lines, legacy } = await this.read();
      const live = new Set((await this.store.images()).map((i) => i.id));
      const kept = opts.all ? [] : [...entries].filter(([, e]) => live.has(e.image));
      const dropped = entries.size - kept.length;
      if (dropped > 0 || legacy || lines > kept.length) {
        await writeFileAtomic(
          this.logPath,
          kept.map(([key, e]) => `${JSON.stringify({ key, image: e.image, parent: e.parent } satisfies LogLine)}\n`).join(''),
        );
        if (legacy) await rm(this.legacyPath, { force: true });
      }
      return dropped;
    });
  }
}

function isEntry(v: unknown): v is CacheEntry {
  return typeof v === 'object' && v !== null && typeof (v as CacheEntry).image === 'string' && typeof (v as CacheEntry).parent === 'string';
}

/** The legacy file's entries in its order, or undefined when there is none. */
function parseLegacy(text: string | undefined): [string, CacheEntry][] | undefined {
  if (text === undefined) return undefined;
  const legacy = JSON.parse(text) as LegacyCacheFile;
  return Object.entries(legacy.entries ?? {}).flatMap(([k, v]) => (isEntry(v) ? [[k, { image: v.image, parent: v.parent }] as [string, CacheEntry]] : []));
}

/** The log's entries in order (a later one for a key wins), and how many lines it has. */
function parseLog(text: string | undefined): { entries: [string, CacheEntry][]; lines: number } {
  const entries: [string, CacheEntry][] = [];
  let lines = 0;
  for (const line of (text ?? '').split('\n')) {
    if (line === '') continue;
    lines++;
    // A line cut short by a crash mid-write is skipped: it was never a complete record.
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const l = parsed as LogLine;
    if (isEntry(l) && typeof l.key === 'string') entries.push([l.key, { image: l.image, parent: l.parent }]);
  }
  return { entries, lines };
}
