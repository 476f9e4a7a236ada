// The storage a registry serves from, split by noun. Every backend (filesystem now, S3 later) runs
// the shared suite in storage.case.ts. Failures are RegistryErrors with the spec's codes.
import type { Readable } from 'node:stream';
import type { Descriptor } from '../../oci/manifest.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** An inclusive byte range, as HTTP writes it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Page<T> {
  items: T[];
  /** Set when more items follow: the last item of this page, to pass as `last` for the next. */
  next?: string;
}

export interface PageRequest {
  /** At most this many items (undefined: all). */
  n?: number;
  /** Only items sorting after this one. */
  last?: string;
}

/** A blob as garbage collection sees it. */
export interface BlobEntry extends BlobInfo {
  /** When the blob was last written, linked, or checked for a manifest (ms since the epoch): the grace period counts from here. */
  modified: number;
}

/** An open blob. Reads at a position let a sender reuse its buffers; a stream makes a new one per chunk. */
export interface BlobContent {
  /** The whole blob's size. */
  readonly size: number;
  /** Copies bytes from `position` into `buffer`, as many as fit and exist: the count, 0 past the end. */
  read(buffer: Buffer, position: number): Promise<number>;
  /** The bytes of `range` (or all), closing the content when it ends; RANGE_INVALID if the range is outside the blob. */
  stream(range?: ByteRange): Readable;
  close(): Promise<void>;
}

/** Content-addressed blobs, stored once per registry whatever repositories link them. */
export interface BlobStore {
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** Every blob of the registry, in no particular order. */
  list(): AsyncIterable<BlobEntry>;
  /** The blob's bytes, open for reading until closed; BLOB_UNKNOWN if absent. */
  open(digest: string): Promise<BlobContent>;
  /**
   * Removes the blob itself (for garbage collection); false if it was not there. With `unusedSince`, only
   * a blob that nothing wrote, linked or checked since then is removed, atomically with respect to those.
   */
  delete(digest: string, opts?: { unusedSince?: number }): Promise<boolean>;
  /**
   * A URL from which a client may GET the blob itself (Range included), for a 307 instead of streaming it
   * through the registry; undefined when the backend cannot or is not configured to (S3's `redirect`).
   */
  presign?(digest: string): Promise<string | undefined>;
  /**
   * For a backend that keeps a mark beside each blob (S3's `_used`): removes the marks, older than
   * `olderThan`, of blobs that are gone, without ever making a present blob look older. The digests cleared.
   */
  sweepMarks?(olderThan: number): Promise<string[]>;
}

export interface UploadStatus {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
}

/**
 * Upload sessions: bytes are appended in order, then finished with a digest that is verified before the
 * blob is published (atomically) and linked into the session's repository. Nothing of an unfinished or
 * failed upload is ever visible as a blob.
 */
export interface UploadStore {
  create(repository: string): Promise<UploadStatus>;
  /** BLOB_UPLOAD_UNKNOWN if there is no such session for this repository. */
  status(repository: string, id: string): Promise<UploadStatus>;
  /**
   * Appends `data` at `offset`, which must be the current size (RANGE_INVALID otherwise, or while another
   * append to the session runs). If `data` fails midway the session is put back to its previous size.
   */
  append(repository: string, id: string, offset: number, data: Readable): Promise<UploadStatus>;
  /** Verifies the content against `digest` (DIGEST_INVALID on mismatch, session dropped), publishes and links it. */
  finish(repository: string, id: string, digest: string): Promise<BlobInfo>;
  cancel(repository: string, id: string): Promise<void>;
  /** Every upload session, with when it last received data (ms since the epoch). */
  list(): Promise<(UploadStatus & { modified: number })[]>;
  /**
   * For a backend whose appends use the store's own partial uploads (S3 multipart uploads): aborts those
   * begun before `olderThan` that belong to no session (a process died mid-append or mid-publish). What went.
   */
  abortAbandoned?(olderThan: number): Promise<string[]>;
}

/** Which registry blobs a repository may serve. */
export interface LinkStore {
  /** BLOB_UNKNOWN if the registry does not hold the blob. */
  link(repository: string, digest: string): Promise<BlobInfo>;
  /** The blob if it is linked into the repository (and present). */
  stat(repository: string, digest: string): Promise<BlobInfo | undefined>;
  unlink(repository: string, digest: string): Promise<boolean>;
  /** Digests of every blob linked into the repository (present or not). */
  list(repository: string): Promise<string[]>;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
}

/** A manifest revision as garbage collection sees it. */
export interface ManifestEntry extends StoredManifest {
  /** The subject's digest, for a referrer. */
  subject?: string;
  /** When the manifest was last put (ms since the epoch). */
  modified: number;
}

export interface PutManifestOptions {
  /** The digest the caller computed (and so the algorithm); computed as sha256 when absent. */
  digest?: string;
  /** For a manifest with a `subject`: the subject's digest and this manifest's descriptor in the referrers list. */
  referrer?: { subject: string; descriptor: Descriptor };
  /**
   * The blobs the manifest holds, which the caller found linked. A backend whose garbage collection may run
   * on another process while this put runs (S3) checks them again once the manifest is stored, and fails
   * with MANIFEST_BLOB_UNKNOWN, leaving no manifest, if a collection took one meanwhile.
   */
  blobs?: string[];
}

/** Manifests of a repository, kept as the exact bytes received, with their media type. */
export interface ManifestStore {
  put(repository: string, bytes: Uint8Array, mediaType: string, opts?: PutManifestOptions): Promise<StoredManifest>;
  stat(repository: string, digest: string): Promise<StoredManifest | undefined>;
  get(repository: string, digest: string): Promise<{ manifest: StoredManifest; bytes: Buffer } | undefined>;
  /** Removes the manifest, the tags that point at it and its referrers entry; false if it was not there. */
  delete(repository: string, digest: string): Promise<boolean>;
  /** Descriptors of the manifests in the repository whose subject is `subject`, sorted by digest. */
  referrers(repository: string, subject: string): Promise<Descriptor[]>;
  /** Every manifest of the repository, in no particular order. */
  list(repository: string): Promise<ManifestEntry[]>;
}

export interface TagStore {
  /** Points `tag` at a manifest of the repository (MANIFEST_UNKNOWN if it is not one). */
  set(repository: string, tag: string, digest: string): Promise<void>;
  get(repository: string, tag: string): Promise<string | undefined>;
  delete(repository: string, tag: string): Promise<boolean>;
  /** Tags in lexical order; undefined if the repository is unknown. */
  list(repository: string, page?: PageRequest): Promise<Page<string> | undefined>;
}

export interface RegistryStorage {
  readonly blobs: BlobStore;
  readonly uploads: UploadStore;
  readonly links: LinkStore;
  readonly manifests: ManifestStore;
  readonly tags: TagStore;
  /** Repository names in lexical order. */
  repositories(page?: PageRequest): Promise<Page<string>>;
  /** True once anything (a blob link, a manifest) was stored in the repository. */
  hasRepository(repository: string): Promise<boolean>;
  /**
   * Resolves when the storage can serve (for /readyz): its directory or bucket is there and writable.
   * Optional: a backend without it is taken to be ready.
   */
  check?(): Promise<void>;
  close(): Promise<void>;
}
