/** `docker://` as a destination: pushes an Image's layers, config and manifest to a registry. */
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { parseManifest, toDockerManifest, toOciManifest } from '../../oci/manifest.js';
import { formatReference, type ImageReference } from '../../oci/reference.js';
import type { Image, ImageIndexBundle, Layer, ManifestBlob } from '../../image/image.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { countProgress, type ProgressSink } from '../../util/progress.js';
import { blobExists, mountBlob, uploadBlob } from './blobs.js';
import { RegistryClient, type RegistryOptions } from './client.js';

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

const DEFAULT_CONCURRENCY = 6;

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
 * Pushes `image` to `ref` (a tag, or a digest that must match what is written). Blobs the
 * repository has are skipped, blobs a sibling repository has are mounted, the rest uploaded, up
 * to `concurrency` at once; then the config and the manifest. Returns the manifest's digest.
 */
export async function writeRegistryImage(ref: ImageReference, image: Image, opts: WriteOptions = {}): Promise<{ digest: string; mediaType: string }> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, { ...opts, push: true }, `${ref.domain}/${ref.path}`));
  try {
    return await writeWith(client, ref, image, opts);
  } finally {
    if (!opts.client) client.close();
  }
}

async function writeWith(client: RegistryClient, ref: ImageReference, image: Image, opts: WriteOptions): Promise<{ digest: string; mediaType: string }> {
  const repo = ref.path;
  const progress = opts.onProgress;
  const manifest = manifestAs(image, opts.format ?? formatOf(image.manifest.mediaType));

  const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const mountFrom = (opts.mountFrom ?? []).filter((r) => r !== repo);
  await Promise.all(image.layers.map((layer) => limit(() => pushLayer(client, repo, layer, mountFrom, opts))));

  progress?.({ type: 'config', digest: image.config.digest });
  if (!(await blobExists(client, repo, image.config.digest))) {
    await uploadRetrying(client, repo, { digest: image.config.digest, size: image.config.bytes.length }, async () => Readable.from([image.config.bytes]), {});
  }

  progress?.({ type: 'manifest' });
  const target = (m: ManifestBlob): string => {
    if (ref.digest && ref.digest !== m.digest) {
      throw new BerthError('DIGEST_MISMATCH', `${formatReference(ref)}: the manifest to write has digest ${m.digest}, not the one named`);
    }
    return ref.tag ?? ref.digest ?? 'latest';
  };
  // The format is chosen before anything is sent (the caller's, else the image's own): a registry that
  // refuses it fails the push, as transports/copy plans it, rather than being tried with the other.
  await client.putManifest(repo, target(manifest), manifest);
  return { digest: manifest.digest, mediaType: manifest.mediaType };
}

async function pushLayer(client: RegistryClient, repo: string, layer: Layer, mountFrom: string[], opts: WriteOptions): Promise<void> {
  const progress = opts.onProgress;
  if (await blobExists(client, repo, layer.digest)) {
    progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'skipped' });
    return;
  }
  for (const from of mountFrom) {
    if (await mountBlob(client, repo, layer.digest, from)) {
      progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'skipped' });
      return;
    }
  }
  progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'start' });
  await uploadRetrying(
    client,
    repo,
    layer,
    async () => {
      const source = await layer.blob();
      const counted = source.pipe(countProgress(layer.digest, progress));
      source.on('error', (e) => counted.destroy(e));
      counted.on('close', () => source.destroy());
      return counted;
    },
    opts.chunkSize ? { chunkSize: opts.chunkSize } : {},
  );
  progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'done' });
}

/**
 * Uploads a blob; a temporary failure (a 5xx, a broken connection) restarts the whole upload once,
 * from a fresh stream. Anything else is final.
 */
async function uploadRetrying(client: RegistryClient, repo: string, desc: { digest: string; size: number }, open: () => Promise<Readable>, opts: { chunkSize?: number }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const source = await open();
    try {
      await uploadBlob(client, repo, desc, source, opts);
      return;
    } catch (e) {
      source.destroy();
      if (attempt >= 2 || !(isBerthError(e) ? e.temporary : isNetworkError(e))) throw e;
    }
  }
}

function isNetworkError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(String((e as { code: unknown }).code));
}

/**
 * Pushes an index and its children to `ref`: every child (blobs, config, manifest by digest) first, then the
 * index's exact bytes at the tag, so that the registry never holds an index naming a missing manifest.
 */
export async function writeRegistryIndex(ref: ImageReference, bundle: ImageIndexBundle, opts: WriteOptions = {}): Promise<{ digest: string; mediaType: string }> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, { ...opts, push: true }, `${ref.domain}/${ref.path}`));
  try {
    for (const child of bundle.children) {
      // Each child keeps its format: a conversion would change its digest and break the index.
      const childRef: ImageReference = { domain: ref.domain, path: ref.path, digest: child.manifest.digest };
      await writeRegistryImage(childRef, child, { ...opts, client, format: formatOf(child.manifest.mediaType) });
    }
    opts.onProgress?.({ type: 'manifest' });
    if (ref.digest && ref.digest !== bundle.index.digest) {
      throw new BerthError('DIGEST_MISMATCH', `${formatReference(ref)}: the index to write has digest ${bundle.index.digest}, not the one named`);
    }
    await client.putManifest(ref.path, ref.tag ?? ref.digest ?? 'latest', bundle.index);
    return { digest: bundle.index.digest, mediaType: bundle.index.mediaType };
  } finally {
    if (!opts.client) client.close();
  }
}
