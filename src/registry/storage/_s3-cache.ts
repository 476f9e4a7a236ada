// What a replica keeps of the bucket's contents in memory: the bytes of small blobs and manifests,
// least recently used first out, within a byte budget (`[storage.s3] cache_bytes`). Bytes are content
// addressed and never go stale; whether they still exist does, so each entry remembers when the bucket
// last confirmed it (a GET, a link check, a tag naming it) and is served only within EXISTENCE_MS of
// that: another replica's delete or collection shows within that long, as RecentLinks' do.

/** How long an existence the bucket confirmed is taken as still true without asking again. */
export const EXISTENCE_MS = 3_000;
/** The largest blob kept: a layer of a few MiB is where a GET's fixed costs stop dominating. */
export const CACHE_ENTRY_MAX = 4 << 20;
/** The default budget of `cache_bytes`. */
export const DEFAULT_CACHE_BYTES = 64 << 20;

interface Entry<V> {
  value: V;
  bytes: number;
  /** When the bucket last said the thing exists (the clock's ms). */
  seen: number;
}

/** An LRU of values with a size, each served only within EXISTENCE_MS of its last confirmation. */
export class ByteCache<V> {
  // A Map iterates in insertion order: re-inserting on a hit makes its first key the least recently used.
  private readonly entries = new Map<string, Entry<V>>();
  private total = 0;

  constructor(
    /** The budget in bytes; 0 keeps nothing. */
    readonly capacity: number,
    readonly now: () => number = Date.now,
    /** The largest single entry kept. */
    readonly entryMax: number = Math.min(CACHE_ENTRY_MAX, capacity),
  ) {}

  /** Bytes held now. */
  get size(): number {
    return this.total;
  }

  /** Whether a value of this many bytes would be kept (so a reader knows whether to gather it whole). */
  fits(bytes: number): boolean {
    return bytes <= this.entryMax && this.capacity > 0;
  }

  /** The value, if cached and confirmed within EXISTENCE_MS; a hit makes it the most recently used. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e || this.now() - e.seen >= EXISTENCE_MS) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** The value whatever its age (for a caller that confirms existence itself, then calls confirm). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (!this.fits(bytes)) return;
    this.entries.set(key, { value, bytes, seen: this.now() });
    this.total += bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.capacity) break;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }

  /** The bucket just said the thing exists: serve it for another EXISTENCE_MS. */
  confirm(key: string): void {
    const e = this.entries.get(key);
    if (e) e.seen = this.now();
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.total -= e.bytes;
  }

  /** Every key for which `match` holds is dropped (a manifest's revisions in all repositories). */
  deleteWhere(match: (key: string) => boolean): void {
    for (const k of [...this.entries.keys()]) if (match(k)) this.delete(k);
  }
}
