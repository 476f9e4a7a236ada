/** One image: its ID is its config digest, as in podman and docker. */
export interface ImageRecord {
  id: string;
  /** Fully qualified names, `registry/repo:tag` (or `@digest` for digest-only names). */
  names: string[];
  /** Every manifest digest this image is known by (for `repo@digest` lookups and --digests). */
  digests: string[];
  /** The platform manifest that describes it; its bytes are a blob. */
  manifestDigest: string;
  manifestMediaType: string;
  /** The index it was selected from, if any; its bytes are a blob too. */
  indexDigest?: string;
  /** Chain IDs of its layers, bottom first. */
  layers: string[];
  /** The layer blobs as stored (compressed or not), one per layer. */
  layerBlobs: string[];
  /** Bytes of unpacked layer content, summed. */
  size: number;
  /** From the config (the image's own creation time). */
  created: string;
  /** When it entered this store. */
  added: string;
}

