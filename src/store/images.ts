import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode } from '../util/errors.js';

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

interface ImagesFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The image records, one small JSON file rewritten whole (atomically) under the store lock.
 * Readers need no lock: a rename replaces the file at once.
 */
export class ImageIndexFile {
  constructor(readonly path: string) {}

  async read(): Promise<ImageRecord[]> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as ImagesFile;
      return parsed.images;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Caller holds the store lock. */
  async write(images: ImageRecord[]): Promise<void> {
    const file: ImagesFile = { version: 1, images };
    await writeFileAtomic(this.path, JSON.stringify(file));
  }
}
