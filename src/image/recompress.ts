/**
 * Layer recompression for push and copy (`--compression-format`, `--dest-compress-format`): a layer whose blob is
 * not in the wanted compression is decompressed and compressed again as it streams into a temp file, hashed on the
 * way (never whole in memory); the manifest is rewritten with the new descriptors. The config, and so the image ID
 * and the diff IDs, do not change.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { autoDecompress, compressStream, type Compression } from '../archive/compression.js';
import { DigestingStream, digestOf } from '../oci/digest.js';
import { isLayerMediaType, isNondistributable, layerCompression, MediaType, type ManifestFormat } from '../oci/mediatypes.js';
import { parseManifest, withLayers, type LayerReplacement } from '../oci/manifest.js';
import { BerthError } from '../util/errors.js';
import type { Image, Layer } from './image.js';

export interface RecompressOptions {
  compression: Exclude<Compression, 'none'>;
  /** gzip 1-9, zstd 1-19 (the compressor's default when absent). */
  level?: number;
  /** The manifest format wanted; default the image's own, OCI when a layer becomes zstd. */
  format?: ManifestFormat;
  /** A directory for the recompressed blobs (removed by the caller). */
  tmpDir: string;
  /** A layer for which this answers true is kept as it is (the destination already has it: podman's --force-compression=false). */
  keep?: (layer: Layer) => Promise<boolean>;
  /**
   * Compress only the layers stored uncompressed, keeping compressed ones (whatever their compression) and
   * nondistributable ones (their URLs serve their digest) as they are: what a push does by default, as podman's
   * and docker's do (a built or committed image is stored uncompressed).
   */
  onlyUncompressed?: boolean;
  /**
   * A blob of this layer the destination holds already (one compressed by an earlier push and remembered): its
   * descriptor is used instead of compressing again. Its bytes are made again only if a writer asks for them after all.
   */
  reuse?: (layer: Layer) => Promise<CompressedBlob | undefined>;
  /** Told each blob compressed here, so that `reuse` can offer it next time. */
  onCompressed?: (layer: Layer, blob: CompressedBlob) => void;
  /** Layers recompressed at once (default 2: compression is CPU bound). */
  concurrency?: number;
}

/** A layer's blob in some compression, and the level it was made at (the compressor's default when absent). */
export interface CompressedBlob extends LayerReplacement {
  level?: number;
}

/** Checks a `--compression-level` for the format. */
export function checkCompressionLevel(compression: Exclude<Compression, 'none'>, level: number | undefined): void {
  if (level === undefined) return;
  const max = compression === 'gzip' ? 9 : 19;
  const min = compression === 'gzip' ? 0 : 1;
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new BerthError('USAGE', `compression level ${level} is out of range for ${compression} (${min}-${max})`);
  }
}

/**
 * The image with every layer in `compression`. Layers already in it (or kept by `opts.keep`) are untouched; when no
 * layer changes and the format is the image's own, the image comes back as it is (same manifest bytes).
 */
export async function recompressImage(image: Image, opts: RecompressOptions): Promise<Image> {
  checkCompressionLevel(opts.compression, opts.level);
  const ownFormat: ManifestFormat = image.manifest.mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
  if (opts.compression === 'zstd' && opts.format === 'docker') {
    throw new BerthError('USAGE', 'zstd-compressed layers need an OCI manifest: Docker schema 2 has no zstd layer type (use the oci format)');
  }
  await mkdir(opts.tmpDir, { recursive: true });
  const limit = pLimit(opts.concurrency ?? 2);
  const replacements = await Promise.all(
    image.layers.map((layer) =>
      limit(async (): Promise<{ r: CompressedBlob; path?: string } | undefined> => {
        // Not a filesystem layer (an attestation's in-toto statement, say): copied as it is.
        if (!isLayerMediaType(layer.mediaType) || layerCompression(layer.mediaType) === opts.compression) return undefined;
        if (opts.onlyUncompressed && (layerCompression(layer.mediaType) !== 'none' || isNondistributable(layer.mediaType))) return undefined;
        if (await opts.keep?.(layer)) return undefined;
        const known = await opts.reuse?.(layer);
        if (known) return { r: known };
        const path = join(opts.tmpDir, `${layer.digest.replace(':', '-')}.${opts.compression}`);
        const hashing = new DigestingStream();
        await pipeline(await layer.tar(), compressStream(opts.compression, opts.level), hashing, createWriteStream(path));
        const r: CompressedBlob = {
          digest: hashing.digest,
          size: hashing.size,
          compression: opts.compression,
          ...(opts.level !== undefined ? { level: opts.level } : {}),
        };
        opts.onCompressed?.(layer, r);
        return { r, path };
      }),
    ),
  );
  const changed = replacements.some((r) => r !== undefined);
  const format: ManifestFormat = opts.format ?? (opts.compression === 'zstd' && changed ? 'oci' : ownFormat);
  if (!changed && format === ownFormat) return image;
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('INTERNAL', 'expected an image manifest');
  const manifest = withLayers(
    parsed.manifest,
    replacements.map((x) => x?.r),
    format,
  );
  const bytes = Buffer.from(JSON.stringify(manifest));
  const layers: Layer[] = image.layers.map((layer, i) => {
    const x = replacements[i];
    if (!x) return layer;
    const d = manifest.layers[i]!;
    return {
      digest: d.digest,
      size: d.size,
      mediaType: d.mediaType,
      diffID: layer.diffID,
      ...(layer.uncompressedSize !== undefined ? { uncompressedSize: layer.uncompressedSize } : {}),
      blob: async () => (x.path === undefined ? compressAgain(layer, x.r) : createReadStream(x.path)),
      tar: async () => (x.path === undefined ? layer.tar() : autoDecompress(createReadStream(x.path))),
    };
  });
  const mediaType = format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  // A converted manifest's config media type follows the format (withLayers mapped it).
  // The index the image came from no longer names this manifest: it is not carried along.
  const { index: _stale, ...rest } = image;
  return {
    ...rest,
    manifest: { bytes, mediaType, digest: digestOf(bytes) },
    config: { ...image.config, mediaType: manifest.config.mediaType },
    layers,
  };
}

/**
 * A reused blob's bytes, should a writer need them after all (the destination lost it since it was asked):
 * compressed again the same way, which gives the same bytes with the same compressor, and a destination that
 * checks digests refuses them otherwise.
 */
async function compressAgain(layer: Layer, blob: CompressedBlob): Promise<Readable> {
  const tar = await layer.tar();
  const compressed = compressStream(blob.compression, blob.level);
  tar.on('error', (e) => compressed.destroy(e));
  return tar.pipe(compressed);
}
