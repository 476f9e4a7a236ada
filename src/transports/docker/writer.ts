/** `docker://` as a destination: pushes an Image's layers, config and manifest to a registry. */
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { parseManifest, toDockerManifest, toOciManifest } from '../../oci/manifest.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { Image, ImageIndexBundle, ManifestBlob } from '../../image/image.js';
import { BerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { copyImage } from '../copy/copy-image.js';
import { imageSource } from '../copy/image-source.js';
import { registryDestination } from '../copy/registry.js';
import type { RegistryClient, RegistryOptions } from './client.js';

export type PushFormat = 'oci' | 'v2s2';

export interface WriteOptions extends RegistryOptions {
  /** Manifest format to write; default: the image's own. */
  format?: PushFormat;
  /** Layers uploaded at once (default 6, as containers/image). */
  concurrency?: number;
  /** Blobs above this size go up in PATCH chunks of it. */
  chunkSize?: number;
  onProgress?: ProgressSink;
  /** Other repositories of the same registry that may hold the blobs: tried as mount sources. */
  mountFrom?: string[];
  client?: RegistryClient;
}

/** The image's manifest in `format` (the same bytes when it already is). Config bytes never change. */
export function manifestAs(image: Image, format: PushFormat): ManifestBlob {
  const want = format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  if (image.manifest.mediaType === want) return image.manifest;
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('INTERNAL', 'expected an image manifest');
  const converted = format === 'oci' ? toOciManifest(parsed.manifest) : toDockerManifest(parsed.manifest);
  const bytes = Buffer.from(JSON.stringify(converted));
  return { bytes, mediaType: want, digest: digestOf(bytes) };
}

/** The push format that sends a manifest of this media type as it is. */
export function formatOf(mediaType: string): PushFormat {
  return mediaType === MediaType.DockerManifest ? 'v2s2' : 'oci';
}

/**
 * Pushes `image` to `ref` (a tag, or a digest that must match what is written) through the one copy engine
 * (transports/copy): blobs the repository has are skipped, blobs a sibling repository has are mounted, the rest
 * uploaded, up to `concurrency` at once; then the config and the manifest. The layers go as the image has them
 * (push compressed them already). Returns the manifest's digest.
 */
export async function writeRegistryImage(ref: ImageReference, image: Image, opts: WriteOptions = {}): Promise<{ digest: string; mediaType: string }> {
  return push(ref, image, opts);
}

async function push(ref: ImageReference, read: Image | ImageIndexBundle, opts: WriteOptions): Promise<{ digest: string; mediaType: string }> {
  const dest = await registryDestination(ref, { ...opts, ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}) });
  const source = imageSource(formatReference(ref), read);
  try {
    const isIndex = 'children' in read;
    return await copyImage(source, dest, {
      keepLayers: true,
      ...(isIndex ? { multiArch: read.children.length > 0 ? 'all' : 'index-only' } : {}),
      ...(opts.format && !isIndex ? { format: opts.format === 'oci' ? 'oci' : 'docker' } : {}),
      ...(opts.concurrency ? { parallelBlobs: opts.concurrency } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      tmpDir: () => Promise.reject(new BerthError('INTERNAL', 'a push recompresses nothing here')),
    });
  } finally {
    await dest.close();
    await source.close();
  }
}

/**
 * Pushes an index and its children to `ref`: every child (blobs, config, manifest by digest, each in its own
 * format, since a conversion would change its digest and break the index) first, then the index's exact bytes at
 * the tag, so that the registry never holds an index naming a missing manifest.
 */
export async function writeRegistryIndex(
  ref: ImageReference,
  bundle: ImageIndexBundle,
  opts: WriteOptions = {},
): Promise<{ digest: string; mediaType: string }> {
  return push(ref, bundle, opts);
}
