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
  /** Every name it has had, newest first (podman's names history); absent until its names first change. */
  namesHistory?: string[];
}

/** The names an image has had, newest first: its names (last added first), then those it lost. */
export function namesHistory(image: ImageRecord): string[] {
  return image.namesHistory ?? [...image.names].reverse();
}

/**
 * Keeps each image's names history once its names have changed, as containers/storage does:
 * each current name, the last added first, goes to the front, so a removed name stays behind them.
 */
export function recordNamesHistory(before: ReadonlyMap<string, readonly string[]>, images: ImageRecord[]): void {
  for (const image of images) {
    const old = before.get(image.id);
    // A new image's history is its names, which namesHistory() derives without a record.
    if (!old) continue;
    if (old.length === image.names.length && old.every((n, i) => n === image.names[i])) continue;
    const previous = image.namesHistory ?? [...old].reverse();
    image.namesHistory = [...new Set([...[...image.names].reverse(), ...previous])];
  }
}
