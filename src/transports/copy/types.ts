/**
 * The one I/O boundary for images: every transport is an ImageSource, an ImageDestination or both, and
 * copyImage() (copy-image.ts) is the only code that moves an image between two of them.
 */
import type { Readable } from 'node:stream';
import type { ManifestBlob } from '../../image/image.js';
import type { UnverifiedSignature } from '../../signature/types.js';

/** A blob as a manifest describes it, and what the copy knows about it besides. */
export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** `config` for the image config, `layer` for a filesystem (or other) layer. */
  readonly kind: 'config' | 'layer';
  /** A layer's diff ID (the sha256 of its uncompressed tar). */
  readonly diffID?: string;
  /** A layer's place in the manifest (0 is the base). */
  readonly layerIndex?: number;
}

/** Where an image is read from. Manifests come back as their exact bytes; blobs as raw streams the copy verifies. */
export interface ImageSource {
  /** The source as the user named it (for messages). */
  readonly reference: string;
  /** Names the source carries for its image (docker-archive's RepoTags, an OCI layout's ref.name); often none. */
  readonly names: readonly string[];
  /** The index this source picked its one image from (by platform) when it was opened, for a destination that keeps it. */
  readonly chosenFrom?: ManifestBlob;
  /**
   * The sizes of layers' uncompressed tars that the source knows without reading them (the store's layer.json), by
   * blob digest: a destination of tars (docker-archive) must give a tar's size before its bytes.
   */
  readonly tarSizes?: ReadonlyMap<string, number>;
  /** The top manifest (an image manifest or an index) without `instance`; with it, the child manifest of that digest. */
  getManifest(instance?: string): Promise<ManifestBlob>;
  /** The blob's bytes exactly as `blob.digest` describes them. The copy checks digest and size as they stream. */
  getBlob(blob: BlobInfo): Promise<Readable>;
  /** Frees what the source holds open (registry connections, spooled archives). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * What a destination takes, declared before the copy starts, so that the plan (manifest type, layer
 * compression, reuse) is made once and never found by trial.
 */
export interface DestinationCapabilities {
  /** Image manifest types it stores, preferred first; `any` when it keeps whatever it is given. */
  readonly manifestTypes: readonly string[] | 'any';
  /** Whether it can hold an image index (`copy --all`) and which index types. */
  readonly indexTypes: readonly string[];
  /** It must be given each layer uncompressed, named by its diff ID (docker-archive). */
  readonly needsUncompressed: boolean;
  /** It wants compressed layers: an uncompressed one (a built layer) is gzipped first, as podman pushes. */
  readonly prefersCompressed: boolean;
  /** Layer compressions it stores. */
  readonly compressions: readonly ('none' | 'gzip' | 'zstd')[];
  /** Whether tryReuseBlob can ever answer yes (HEAD, a cross-repository mount, a file present). */
  readonly canReuseBlobs: boolean;
  /** The manifest digest it ends up with is the one written (false: it makes its own, as docker-archive does). */
  readonly keepsDigests: boolean;
  /** Blobs it takes at once (a tar is written one entry after another). */
  readonly parallelBlobs: number;
  /**
   * It holds several images, all made visible by its one commit() (an archive's manifest.json entries, a layout's
   * index.json manifests): copyImages() gives it each image in turn, each top manifest with its own `names`.
   */
  readonly multipleImages: boolean;
  /**
   * It takes a layer whose digest is not known before it is written (a build step's diff, `commit`'s): putNewLayer
   * hashes it as it writes its blob and, from the same read, unpacks it; the copy of the image made from that digest
   * then finds the layer present. Only a destination that digests what it writes can (the store).
   */
  readonly takesNewLayers: boolean;
}

/** Where an image is written. Nothing is visible at the destination until commit(); close() without it takes back what was put. */
export interface ImageDestination {
  readonly reference: string;
  readonly capabilities: DestinationCapabilities;
  /** True when the destination has the blob already (or was able to mount it) and it need not be sent. */
  tryReuseBlob(blob: BlobInfo): Promise<boolean>;
  /** Writes a blob from a stream whose bytes are verified against `blob` as they pass (a mismatch is a stream error). */
  putBlob(stream: Readable, blob: BlobInfo): Promise<void>;
  /**
   * Writes a manifest's exact bytes: with `instance`, a child of the index to come (by its digest); without, the top
   * one the reference names. `chosenFrom` is the index a single platform was picked from, for a destination that keeps it.
   * `names` name this top manifest in a destination of several images (RepoTags, ref.name), instead of the names it
   * was opened with.
   */
  putManifest(manifest: ManifestBlob, opts?: { instance?: string; chosenFrom?: ManifestBlob; names?: readonly string[] }): Promise<void>;
  /**
   * With `capabilities.takesNewLayers`: writes an uncompressed layer tar not digested yet and gives its digest (its
   * diff ID) and size; it stays out of sight until the copy names it and commits. `likelyChain`: the chain ID it likely
   * has (the same build step made it before): when that layer is stored, the tar is only hashed into its blob, and
   * unpacked (from the blob) only if it turns out to be another.
   */
  putNewLayer?(tar: Readable, opts?: { likelyChain?: string }): Promise<{ digest: string; size: number }>;
  /**
   * Keeps `signatures` of the manifest `digest` with the image, written by commit() together with it: the store's
   * way, which keeps them beside the image's record. Destinations without it take signatures after the commit
   * (engine/images/copy-signatures.ts) or hold none.
   */
  keepSignatures?(digest: string, signatures: readonly UnverifiedSignature[]): void;
  /** Makes the image visible (index.json, manifest.json, an archive renamed into place, a store record). */
  commit(): Promise<void>;
  /** Frees what it holds; without a commit, removes what was written. Safe to call twice. */
  close(): Promise<void>;
}
