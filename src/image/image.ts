import type { Readable } from 'node:stream';

/** Exact manifest (or index) bytes as received or written: never re-serialised once digested. */
export interface ManifestBlob {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** A layer as one transport hands it to another. */
export interface Layer {
  /** The descriptor from the manifest: digest and size of the blob as stored/transferred. */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** sha256 of the uncompressed tar, from the config's rootfs.diff_ids. */
  readonly diffID: string;
  /** Bytes of the uncompressed tar when the source knows it (docker-archive needs it up front). */
  readonly uncompressedSize?: number;
  /** The blob exactly as its digest describes it. */
  blob(): Promise<Readable>;
  /**
   * True when blob()'s stream checks the digest and size itself and fails (an error instead of its
   * end) on a mismatch, as a registry download does: a consumer that stores the bytes need not hash
   * them a second time.
   */
  readonly blobVerified?: boolean;
  /** The uncompressed tar. */
  tar(): Promise<Readable>;
}

/**
 * One platform image, resolved: the only shape images take between transports. A transport reads
 * one of these (store, docker-archive, OCI layout, a registry later) or writes one.
 */
export interface Image {
  readonly manifest: ManifestBlob;
  /** The index or manifest list the manifest was chosen from, kept so it can be written back. */
  readonly index?: ManifestBlob;
  readonly config: { bytes: Buffer; digest: string; mediaType: string };
  readonly layers: readonly Layer[];
}

/** An image with the names it carries in its source (RepoTags, ref.name annotations...). */
export interface NamedImage {
  image: Image;
  names: string[];
}

/**
 * An image index (OCI) or manifest list (Docker) with its children resolved, for copies of every platform
 * (`copy --all`). `children` are in the index's order; empty for `--multi-arch index-only` (the index alone).
 */
export interface ImageIndexBundle {
  readonly index: ManifestBlob;
  readonly children: readonly Image[];
}
