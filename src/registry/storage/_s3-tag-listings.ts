// A replica's memory of each repository's tag names, so that a tags list costs one HEAD instead of a
// LIST. Why a HEAD: on RGW a LIST, like any GET with a body, takes ~44 ms however small (RGW writes the
// headers and the body apart, and Nagle holds the body until the client's delayed ACK of the headers),
// so 32 clients get at most ~730 listings a second from a replica whatever its CPU; a HEAD's answer is
// one write, ~1 ms, and costs RGW and its OSD a third of a LIST's CPU.
//
// Why it is right across replicas. Every change to a repository's tags (a tag set or deleted, a manifest
// delete that removes tags) writes the tag objects first and then `_tagset` (layout.tagSet) with new
// random bytes, and answers its client only after both. A listing is made as: HEAD `_tagset` (ETag E),
// then LIST the tags, kept as (E, names); it is served while a HEAD of `_tagset` still answers E. Take a
// change acknowledged before such a HEAD. If its `_tagset` write came before the HEAD that made the entry,
// its tag writes came before the LIST, which shows them. If after, `_tagset` has been rewritten since E was
// read, with random bytes whose ETag (their MD5 on S3 and RGW) is not E, so the entry is not served. So a
// tag set or deleted through one replica shows in every replica's next listing, as with a LIST each time.
// Two gaps, both bounded by MAX_AGE_MS (an entry is listed again after that, whatever the HEAD says): a
// replica that died between its tag write and its `_tagset` write, and a berth older than this file
// (which writes no `_tagset`) changing tags beside newer replicas. A repository without `_tagset` is
// listed every time.
import { randomUUID } from 'node:crypto';
import type { S3Bucket } from './_s3-bucket.js';
import { layout } from './_s3-layout.js';

/** An entry is listed again after this long even if `_tagset` did not change. */
export const MAX_AGE_MS = 10_000;
/** Listings longer than one LIST page are not kept (their pages come from the bucket each time). */
export const LISTING_MAX = 1000;
/** The names kept in all, over every repository (the least recently used repository's go first). */
const NAMES_MAX = 100_000;

interface Listing {
  etag: string;
  names: string[];
  at: number;
}

export class TagListings {
  // Insertion order is use order: a hit re-inserts, so the first key is the least recently used.
  private readonly byRepository = new Map<string, Listing>();
  private held = 0;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Every tag name of the repository in byte order (empty for a repository without tags, or none), or
   * undefined when there are more than LISTING_MAX. One HEAD while this replica's listing holds, else a
   * HEAD and a LIST.
   */
  async names(repository: string): Promise<string[] | undefined> {
    const set = await this.bucket.head(layout.tagSet(repository));
    const kept = this.byRepository.get(repository);
    if (kept && set?.etag === kept.etag && this.now() - kept.at < MAX_AGE_MS) {
      this.byRepository.delete(repository);
      this.byRepository.set(repository, kept);
      return kept.names;
    }
    const at = this.now();
    const under = layout.tags(repository);
    const { items, more } = await this.bucket.page(under, { max: LISTING_MAX });
    if (more) return undefined;
    const names = items.map((o) => o.key.slice(under.length));
    this.forget(repository);
    if (set?.etag !== undefined) this.keep(repository, { etag: set.etag, names, at });
    return names;
  }

  /** After the repository's tag objects were written or removed, before the change is acknowledged. */
  async changed(repository: string): Promise<void> {
    this.forget(repository);
    await this.bucket.put(layout.tagSet(repository), randomUUID(), { contentType: 'text/plain' });
  }

  private keep(repository: string, listing: Listing): void {
    this.byRepository.set(repository, listing);
    this.held += listing.names.length;
    for (const r of this.byRepository.keys()) {
      if (this.held <= NAMES_MAX) break;
      this.forget(r);
    }
  }

  private forget(repository: string): void {
    const l = this.byRepository.get(repository);
    if (!l) return;
    this.byRepository.delete(repository);
    this.held -= l.names.length;
  }
}
