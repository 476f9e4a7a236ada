// Manifests, tags and referrers of a repository on S3. A manifest's bytes are a blob like any other
// (so GC and blob GETs see them), and also the body of the repository's revision object, whose metadata
// holds the media type and subject: a manifest GET is one request. Tags are one object each, so a tag
// listing is a listing of one prefix, paged with StartAfter, and a PUT is atomic (the last writer wins);
// a replica keeps the listing, checked by one HEAD (_s3-tag-listings.ts).
// A revision this process put or read is kept in memory (_s3-cache.ts): a GET by digest makes no request
// while its existence is recent, and one by tag makes exactly one, the tag's, which also confirms it.
import { digestOf, parseDigest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { RegistryError } from '../errors.js';
import { mapLimit, type S3Bucket } from './_s3-bucket.js';
import type { CachedBytes, S3Blobs, S3Links } from './_s3-blobs.js';
import { digestOfKey, layout } from './_s3-layout.js';
import type { TagListings } from './_s3-tag-listings.js';
import type { ManifestEntry, ManifestStore, Page, PageRequest, PutManifestOptions, StoredManifest, TagStore } from './types.js';

const MEDIA_TYPE = 'media-type';
const SUBJECT = 'subject';

/** A revision's cache key: its media type is the repository's (the bytes alone do not say it for sure). */
const revisionKey = (repository: string, digest: string) => `manifest ${repository}@${digest}`;

export class S3Manifests implements ManifestStore {
  constructor(
    private readonly bucket: S3Bucket,
    private readonly blobs: S3Blobs,
    private readonly links: S3Links,
    private readonly listings: TagListings,
  ) {}

  async put(repository: string, bytes: Uint8Array, mediaType: string, opts: PutManifestOptions = {}): Promise<StoredManifest> {
    const algorithm = opts.digest === undefined ? 'sha256' : parseDigest(opts.digest).algorithm;
    const digest = digestOf(bytes, algorithm);
    if (opts.digest !== undefined && opts.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', `manifest has digest ${digest}, not ${opts.digest}`, { detail: { digest: opts.digest } });
    }
    // Marked used first, so that a collection running now keeps the blob (or it is written anew).
    await this.blobs.touch(digest);
    if ((await this.blobs.statLive(digest))?.size !== bytes.length) await this.bucket.put(layout.blob(digest), bytes);
    await this.links.ensureRepository(repository);
    const metadata: Record<string, string> = { [MEDIA_TYPE]: mediaType };
    if (opts.referrer) metadata[SUBJECT] = opts.referrer.subject;
    await this.bucket.put(layout.manifest(repository, digest), bytes, { metadata, contentType: mediaType });
    if (opts.referrer) {
      await this.bucket.put(layout.referrer(repository, opts.referrer.subject, digest), JSON.stringify(opts.referrer.descriptor), {
        contentType: 'application/json',
      });
    }
    await this.holdBlobs(repository, digest, bytes, opts);
    this.remember(repository, digest, { bytes: Buffer.from(bytes), mediaType, ...(opts.referrer ? { subject: opts.referrer.subject } : {}) });
    return { digest, mediaType, size: bytes.length };
  }

  /**
   * A collection on another replica whose mark phase read this repository before the revision existed may be
   * sweeping the blobs checked before it was written. Marked used again now, they are kept by any sweep
   * that looks at them after this; one that looked before has its tombstone up or the blob gone, which
   * statLive sees: the manifest's own bytes are written again, and a missing blob withdraws the manifest.
   */
  private async holdBlobs(repository: string, digest: string, bytes: Uint8Array, opts: PutManifestOptions): Promise<void> {
    const held = [...new Set(opts.blobs ?? [])].filter((d) => d !== digest);
    await mapLimit([digest, ...held], 8, (d) => this.blobs.touch(d));
    if ((await this.blobs.statLive(digest))?.size !== bytes.length) await this.bucket.put(layout.blob(digest), bytes);
    const gone = (await mapLimit(held, 8, async (d) => ((await this.blobs.statLive(d)) ? undefined : d))).filter((d): d is string => d !== undefined);
    if (gone.length === 0) return;
    if (opts.referrer) await this.bucket.delete(layout.referrer(repository, opts.referrer.subject, digest));
    await this.bucket.delete(layout.manifest(repository, digest));
    const errors = gone.map((d) => new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${d} is unknown to repository ${repository}`, { detail: { digest: d } }));
    throw new RegistryError(errors[0]!.code, errors[0]!.message, { detail: errors[0]!.detail, more: errors.slice(1) });
  }

  private remember(repository: string, digest: string, cached: CachedBytes): void {
    this.blobs.cache.set(revisionKey(repository, digest), cached, cached.bytes.length);
  }

  /**
   * A tag of the repository was just read naming the revision, so it exists: a delete removes the tags
   * naming a revision before the revision, and a tag is set only on a revision that exists.
   */
  confirm(repository: string, digest: string): void {
    this.blobs.cache.confirm(revisionKey(repository, digest));
  }

  /** `fresh`: ask the bucket whatever the cache says (before a write that relies on the answer). */
  async stat(repository: string, digest: string, opts: { fresh?: boolean } = {}): Promise<StoredManifest | undefined> {
    const cached = opts.fresh ? undefined : this.blobs.cache.get(revisionKey(repository, digest));
    if (cached) return { digest, mediaType: cached.mediaType!, size: cached.bytes.length };
    const h = await this.bucket.head(layout.manifest(repository, digest));
    const mediaType = h?.metadata[MEDIA_TYPE];
    if (!h || mediaType === undefined) return undefined;
    if (this.blobs.cache.peek(revisionKey(repository, digest))?.mediaType === mediaType) this.confirm(repository, digest);
    return { digest, mediaType, size: h.size };
  }

  async get(repository: string, digest: string): Promise<{ manifest: StoredManifest; bytes: Buffer } | undefined> {
    const cached = this.blobs.cache.get(revisionKey(repository, digest));
    if (cached) return { manifest: { digest, mediaType: cached.mediaType!, size: cached.bytes.length }, bytes: cached.bytes };
    const got = await this.bucket.get(layout.manifest(repository, digest));
    const mediaType = got?.head.metadata[MEDIA_TYPE];
    if (!got || mediaType === undefined) return undefined;
    const subject = got.head.metadata[SUBJECT];
    this.remember(repository, digest, { bytes: got.body, mediaType, ...(subject ? { subject } : {}) });
    return { manifest: { digest, mediaType, size: got.body.length }, bytes: got.body };
  }

  async delete(repository: string, digest: string): Promise<boolean> {
    this.blobs.cache.delete(revisionKey(repository, digest));
    const key = layout.manifest(repository, digest);
    const h = await this.bucket.head(key);
    if (!h) return false;
    const subject = h.metadata[SUBJECT];
    if (subject) await this.bucket.delete(layout.referrer(repository, subject, digest));
    // Tags go before the revision (a tag read confirms a revision, see confirm), and once more after it:
    // a tag set meanwhile checked the revision before this removed it, and was written either before the
    // second pass lists the tags (which removes it) or after the revision went, which S3Tags.set sees when
    // it checks again after its write (and removes its tag). So no tag outlives its revision.
    await this.untag(repository, digest);
    await this.bucket.delete(key);
    await this.untag(repository, digest);
    return true;
  }

  /** Removes the repository's tags that name the revision (each read, then removed if it still names it). */
  async untag(repository: string, digest: string, tags?: string[]): Promise<void> {
    const keys = tags?.map((t) => layout.tag(repository, t)) ?? [];
    if (!tags) for await (const o of this.bucket.list(layout.tags(repository))) keys.push(o.key);
    const removed = await mapLimit(keys, 8, async (k) => {
      if ((await this.bucket.get(k))?.body.toString('utf8') !== digest) return false;
      await this.bucket.delete(k);
      return true;
    });
    if (removed.includes(true)) await this.listings.changed(repository);
  }

  async list(repository: string): Promise<ManifestEntry[]> {
    const under = layout.manifests(repository);
    const found: { digest: string; size: number; modified: number }[] = [];
    for await (const o of this.bucket.list(under)) {
      const digest = digestOfKey(o.key, under);
      if (digest) found.push({ digest, size: o.size, modified: o.modified });
    }
    const entries = await mapLimit(found, 8, async (f) => {
      const h = await this.bucket.head(layout.manifest(repository, f.digest));
      const mediaType = h?.metadata[MEDIA_TYPE];
      if (!h || mediaType === undefined) return undefined;
      const entry: ManifestEntry = { digest: f.digest, mediaType, size: h.size, modified: h.modified };
      if (h.metadata[SUBJECT]) entry.subject = h.metadata[SUBJECT];
      return entry;
    });
    return entries.filter((e): e is ManifestEntry => e !== undefined);
  }

  async referrers(repository: string, subject: string): Promise<Descriptor[]> {
    const keys: string[] = [];
    for await (const o of this.bucket.list(layout.referrers(repository, subject))) keys.push(o.key);
    const found = await mapLimit(keys, 8, async (k) => {
      const got = await this.bucket.get(k);
      if (!got) return undefined;
      const d = JSON.parse(got.body.toString('utf8')) as Descriptor;
      return (await this.stat(repository, d.digest)) ? d : undefined;
    });
    return found.filter((d): d is Descriptor => d !== undefined);
  }
}

/** A page of the names under `under` (the part of each key after it), in byte order. */
export async function pageOfNames(bucket: S3Bucket, under: string, page: PageRequest = {}): Promise<Page<string>> {
  if (page.n === 0) return { items: [] };
  const { items, more } = await bucket.page(under, {
    ...(page.last !== undefined ? { startAfter: under + page.last } : {}),
    ...(page.n !== undefined ? { max: page.n } : {}),
  });
  const names = items.map((o) => o.key.slice(under.length));
  return more && names.length > 0 ? { items: names, next: names[names.length - 1]! } : { items: names };
}

export class S3Tags implements TagStore {
  constructor(
    private readonly bucket: S3Bucket,
    private readonly manifests: S3Manifests,
    private readonly listings: TagListings,
    private readonly repositoryExists: (name: string) => Promise<boolean>,
  ) {}

  async set(repository: string, tag: string, digest: string): Promise<void> {
    // Asked of the bucket: a tag naming a revision gone meanwhile would keep confirming its cached bytes.
    if (!(await this.manifests.stat(repository, digest, { fresh: true }))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is unknown to repository ${repository}`, { detail: { digest } });
    }
    await this.bucket.put(layout.tag(repository, tag), digest, { contentType: 'text/plain' });
    // A delete of the revision may have listed the tags before this write and removed the revision after
    // the check above (see S3Manifests.delete): asked again, a revision gone takes this tag with it.
    if (!(await this.manifests.stat(repository, digest, { fresh: true }))) {
      await this.manifests.untag(repository, digest, [tag]);
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is unknown to repository ${repository}`, { detail: { digest } });
    }
    await this.listings.changed(repository);
  }

  async get(repository: string, tag: string): Promise<string | undefined> {
    // Never cached: a tag moved through another replica is seen at once.
    const digest = (await this.bucket.get(layout.tag(repository, tag)))?.body.toString('utf8').trim();
    if (digest === '' || digest === undefined) return undefined;
    this.manifests.confirm(repository, digest);
    return digest;
  }

  async delete(repository: string, tag: string): Promise<boolean> {
    const key = layout.tag(repository, tag);
    if (!(await this.bucket.head(key))) return false;
    await this.bucket.delete(key);
    await this.listings.changed(repository);
    return true;
  }

  /**
   * One HEAD while this replica's listing holds, else a HEAD and a LIST (_s3-tag-listings.ts); a repository
   * of more tags than one LIST gives is paged from the bucket. The repository's existence is asked only
   * when there is no tag (an empty repository or none).
   */
  async list(repository: string, page: PageRequest = {}): Promise<Page<string> | undefined> {
    if (page.n === 0) return (await this.repositoryExists(repository)) ? { items: [] } : undefined;
    const names = await this.listings.names(repository);
    const found = names === undefined ? await pageOfNames(this.bucket, layout.tags(repository), page) : pageOf(names, page);
    if (found.items.length === 0 && !(await this.repositoryExists(repository))) return undefined;
    return found;
  }
}

/** The page of `names` (sorted) that the request asks for. */
function pageOf(names: string[], page: PageRequest): Page<string> {
  const last = page.last;
  let from = 0;
  if (last !== undefined) while (from < names.length && names[from]! <= last) from++;
  const rest = from === 0 ? names : names.slice(from);
  if (page.n === undefined || rest.length <= page.n) return { items: rest.slice() };
  const items = rest.slice(0, page.n);
  return { items, next: items[items.length - 1]! };
}
