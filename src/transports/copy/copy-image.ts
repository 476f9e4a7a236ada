/**
 * copyImage(): the one function that moves an image from an ImageSource to an ImageDestination. It makes
 * its plan before the first byte moves (which manifest type the destination gets, which layers are
 * compressed or decompressed on the way), then moves the blobs: each verified as it streams, several at
 * once, skipped when the destination has them, retried once from a fresh stream on a temporary failure.
 * A registry download resumes with Range inside its source (transports/docker/blobs.ts openBlob).
 */
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { autoDecompress } from '../../archive/compression.js';
import { imageAs, mapChildren } from '../../image/bundle.js';
import type { Image, ImageIndexBundle, Layer, ManifestBlob } from '../../image/image.js';
import { recompressImage, type RecompressOptions } from '../../image/recompress.js';
import { digestOf, parseDigest } from '../../oci/digest.js';
import { parseImageConfig, parseManifest, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import { layerCompression, MediaType, type ManifestFormat } from '../../oci/mediatypes.js';
import { hostPlatform, selectFromIndex, type Platform } from '../../oci/platform.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { MaxBytes } from '../../util/read-limits.js';
import { settleAll } from '../../util/settle-all.js';
import { BULK_STREAMING_MIN, bulkStreamed, duringBulkStreaming } from '../../util/bulk-streaming.js';
import type { BlobInfo, DestinationCapabilities, ImageDestination, ImageSource } from './types.js';
import { readVerified, verified } from './verify.js';

/** Blobs moved at once at most (containers/image's figure), fewer when the destination says so. */
export const MAX_PARALLEL_BLOBS = 6;

export interface CopyImageOptions {
  /** 'system' (default): the one image for `platform` out of an index; 'all': the index with every child; 'index-only': the index alone. */
  multiArch?: 'system' | 'all' | 'index-only';
  platform?: Platform;
  /** Every layer in this compression (skopeo's --dest-compress-format, podman push's --compression-format). */
  compression?: { format: 'gzip' | 'zstd'; level?: number };
  /** Fail rather than write a manifest (or index) with other bytes than the source's. */
  preserveDigests?: boolean;
  /**
   * The same refusal for another reason, which starts its message: the source's signatures travel with the image,
   * and a new digest would invalidate them (containers/image's "Would invalidate signatures").
   */
  keepDigestsFor?: string;
  /**
   * Send the layers as the source has them: no gzip of uncompressed layers for a destination that prefers them
   * compressed (the caller compressed them already, as push does, or an index's children must keep their digests).
   */
  keepLayers?: boolean;
  /** Layers moved at once (default and most: MAX_PARALLEL_BLOBS, or fewer when the destination says so). */
  parallelBlobs?: number;
  /** The manifest format to write whatever the destination prefers (push --format). */
  format?: ManifestFormat;
  /** Where recompressed layers are spooled (made on first use; the caller removes it). */
  tmpDir: () => Promise<string>;
  /** Push's memory of layers it compressed before (see transports/docker/compressed-layers.ts). */
  recompress?: Pick<RecompressOptions, 'reuse' | 'onCompressed' | 'keep'>;
  onProgress?: ProgressSink;
  /**
   * Asked once the source's top manifest (an index, or the image) is read and before anything is
   * written: a trust policy's decision on the image, which throws to refuse it (so a refused image
   * leaves nothing at the destination, and no layer is read).
   */
  admit?: (top: { digest: string; mediaType: string }) => Promise<void>;
}

export interface CopyResult {
  /** The digest of the manifest (or index) written as the top one. */
  digest: string;
  mediaType: string;
}

/**
 * Copies the image `src` names to `dest` and commits it. The caller opened both and closes both (a
 * failed copy's close() takes back what the destination was given).
 */
export async function copyImage(src: ImageSource, dest: ImageDestination, opts: CopyImageOptions): Promise<CopyResult> {
  const result = await copyUncommitted(src, dest, opts, undefined);
  await dest.commit();
  return result;
}

/**
 * Copies several images into one destination that holds several (`capabilities.multipleImages`: `save` of many
 * images into one archive or layout), each top manifest under its own `names`, and commits once: all are visible
 * together, or none. The caller opens and closes the sources and the destination.
 */
export async function copyImages(
  images: readonly { source: ImageSource; names: readonly string[] }[],
  dest: ImageDestination,
  opts: CopyImageOptions,
): Promise<CopyResult[]> {
  if (images.length === 0) throw new BerthError('USAGE', `no image to copy to ${dest.reference}`);
  if (images.length > 1 && !dest.capabilities.multipleImages) throw new BerthError('USAGE', `${dest.reference} holds one image, not ${images.length}`);
  const results: CopyResult[] = [];
  for (const { source, names } of images) results.push(await copyUncommitted(source, dest, opts, names));
  await dest.commit();
  return results;
}

/**
 * Puts a layer still being made (a build step's diff, `commit`'s) into `dest` ahead of the image that names it: its
 * digest, and so the config and the manifest, are known only once it is written (as go-containerregistry's stream
 * layers go up before their manifest). The image made from that digest then goes through copyImage into the same
 * destination, which finds the layer there. Only a destination that takes new layers can (`takesNewLayers`: the
 * store, which unpacks the layer from the same read that writes and hashes it).
 */
export async function putNewLayer(dest: ImageDestination, tar: Readable, opts: { likelyChain?: string } = {}): Promise<{ digest: string; size: number }> {
  if (!dest.capabilities.takesNewLayers || !dest.putNewLayer) {
    tar.destroy();
    throw new BerthError('USAGE', `${dest.reference} takes no layer whose digest is not known yet`);
  }
  return dest.putNewLayer(tar, opts);
}

/** One image (or index) into `dest`, everything but the commit; `names` go with its top manifest when given. */
async function copyUncommitted(src: ImageSource, dest: ImageDestination, opts: CopyImageOptions, names: readonly string[] | undefined): Promise<CopyResult> {
  const top = await src.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (opts.admit) await opts.admit({ digest: top.digest, mediaType: parsed.mediaType });
  const topBlob: ManifestBlob = { ...top, mediaType: parsed.mediaType };
  const named = names ? { names } : {};
  if (parsed.kind === 'index' && (opts.multiArch ?? 'system') !== 'system') {
    return copyIndex(src, dest, topBlob, parsed.index, opts, named);
  }
  if (parsed.kind === 'index') {
    const chosen = selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform());
    const child = await childManifest(src, chosen.digest, chosen.mediaType);
    const plan = await planImage(src, dest.capabilities, child.blob, child.manifest, opts, dest.reference);
    await moveBlobs(dest, plan, opts);
    // The index is kept beside the image only while it still names this manifest.
    await dest.putManifest(plan.image.manifest, { ...named, ...(plan.image.manifest.digest === child.blob.digest ? { chosenFrom: topBlob } : {}) });
    return { digest: plan.image.manifest.digest, mediaType: plan.image.manifest.mediaType };
  }
  const plan = await planImage(src, dest.capabilities, topBlob, parsed.manifest, opts, dest.reference);
  await moveBlobs(dest, plan, opts);
  const kept = src.chosenFrom && plan.image.manifest.digest === topBlob.digest;
  await dest.putManifest(plan.image.manifest, { ...named, ...(kept ? { chosenFrom: src.chosenFrom! } : {}) });
  return { digest: plan.image.manifest.digest, mediaType: plan.image.manifest.mediaType };
}

async function childManifest(src: ImageSource, digest: string, mediaType: string | undefined): Promise<{ blob: ManifestBlob; manifest: ImageManifest }> {
  const got = await src.getManifest(digest);
  if (digestOf(got.bytes, parseDigest(digest).algorithm) !== digest) {
    throw new BerthError('DIGEST_MISMATCH', `${src.reference}: manifest ${digest} does not match its digest`);
  }
  const parsed = parseManifest(got.bytes, got.mediaType || mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `${src.reference}: nested image indexes are not supported`);
  return { blob: { bytes: got.bytes, digest, mediaType: parsed.mediaType }, manifest: parsed.manifest };
}

/** One image as it will be written: its (maybe converted, maybe recompressed) manifest, and where each layer's bytes come from. */
interface ImagePlan {
  image: Image;
  /** The destination takes uncompressed tars named by diff ID (docker-archive). */
  uncompressed: boolean;
}

/**
 * The plan for one image, made before any layer moves: the config read (and checked), the layers' compression
 * decided for the destination, the manifest type chosen from the destination's list.
 */
async function planImage(
  src: ImageSource,
  caps: DestinationCapabilities,
  manifestBlob: ManifestBlob,
  manifest: ImageManifest,
  opts: CopyImageOptions,
  destRef: string,
): Promise<ImagePlan> {
  const configInfo: BlobInfo = { digest: manifest.config.digest, size: manifest.config.size, mediaType: manifest.config.mediaType, kind: 'config' };
  const configBytes = await readVerified(
    await src.getBlob(configInfo),
    configInfo.digest,
    configInfo.size,
    MaxBytes.config,
    `${src.reference}: image config ${configInfo.digest}`,
  );
  const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
  if (diffIDs.length !== manifest.layers.length) {
    throw new BerthError(
      'MANIFEST_INVALID',
      `${src.reference}: the manifest lists ${manifest.layers.length} layers but the config has ${diffIDs.length} diff IDs`,
    );
  }
  const layers: Layer[] = manifest.layers.map((d, i) => {
    const info: BlobInfo = { digest: d.digest, size: d.size, mediaType: d.mediaType, kind: 'layer', diffID: diffIDs[i]!, layerIndex: i };
    const blob = async () => verified(await src.getBlob(info), d.digest, d.size, `${src.reference}: blob ${d.digest}`);
    // Known without reading: an uncompressed blob is its tar, and the store keeps every tar's size.
    const tarSize = d.digest === diffIDs[i] ? d.size : src.tarSizes?.get(d.digest);
    return {
      digest: d.digest,
      size: d.size,
      mediaType: d.mediaType,
      diffID: diffIDs[i]!,
      ...(tarSize !== undefined ? { uncompressedSize: tarSize } : {}),
      blobVerified: true,
      blob,
      tar: async () => autoDecompress(await blob()),
    };
  });
  const source: Image = {
    manifest: manifestBlob,
    config: { bytes: configBytes, digest: manifest.config.digest, mediaType: manifest.config.mediaType },
    layers,
  };

  let image = source;
  if (opts.compression) {
    if (caps.needsUncompressed) throw new BerthError('USAGE', `--dest-compress-format: ${destRef} holds uncompressed layers (docker save's format)`);
    image = await recompressImage(image, {
      compression: opts.compression.format,
      ...(opts.compression.level !== undefined ? { level: opts.compression.level } : {}),
      ...(opts.format ? { format: opts.format } : {}),
      tmpDir: await opts.tmpDir(),
      ...opts.recompress,
    });
  } else if (caps.prefersCompressed && !digestsFixedBy(opts) && !opts.keepLayers) {
    // A registry gets layers compressed, as podman and skopeo send them: those stored uncompressed are gzipped.
    image = await recompressImage(image, { compression: 'gzip', onlyUncompressed: true, tmpDir: await opts.tmpDir(), ...opts.recompress });
  }
  const fixedBy = digestsFixedBy(opts);
  if (fixedBy && image.manifest.digest !== source.manifest.digest) {
    throw new BerthError('USAGE', `${fixedBy}: recompressing the layers changes the manifest (${image.manifest.digest}, not ${source.manifest.digest})`);
  }
  const format = manifestFormatFor(image, caps, opts.format, image !== source);
  if (format) {
    if (fixedBy) {
      throw new BerthError(
        'USAGE',
        `${fixedBy}: ${destRef} stores ${format === 'oci' ? 'OCI' : 'Docker schema 2'} manifests only, and the source's is ${image.manifest.mediaType} (its digest would change)`,
      );
    }
    image = imageAs(image, format);
  }
  return { image, uncompressed: caps.needsUncompressed };
}

/** Why no manifest may change, as a refusal's first words; undefined when one may. */
function digestsFixedBy(opts: CopyImageOptions): string | undefined {
  return opts.preserveDigests ? '--preserve-digests' : opts.keepDigestsFor;
}

/** The format the manifest must be converted to for the destination, or undefined to keep it. */
function manifestFormatFor(image: Image, caps: DestinationCapabilities, asked: ManifestFormat | undefined, recompressed: boolean): ManifestFormat | undefined {
  const own: ManifestFormat = image.manifest.mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
  // A format asked for on a recompressed image was applied by the recompression already.
  if (asked) return asked === own || recompressed ? undefined : asked;
  if (caps.manifestTypes === 'any' || caps.manifestTypes.includes(image.manifest.mediaType)) return undefined;
  const zstd = image.layers.some((l) => layerCompression(l.mediaType) === 'zstd');
  for (const t of caps.manifestTypes) {
    if (t === MediaType.OciManifest) return 'oci';
    if (t === MediaType.DockerManifest && !zstd) return 'docker';
  }
  throw new BerthError('MANIFEST_UNSUPPORTED', `the destination takes none of the manifest types this image can be written as (${image.manifest.mediaType})`);
}

/** What a layer is at the destination: its blob as described, or (for a destination of uncompressed layers) its tar. */
function layerInfo(layer: Layer, index: number, uncompressed: boolean): BlobInfo {
  if (!uncompressed) return { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, kind: 'layer', diffID: layer.diffID, layerIndex: index };
  return {
    digest: layer.diffID,
    size: layer.uncompressedSize ?? -1,
    mediaType: MediaType.DockerLayerUncompressed,
    kind: 'layer',
    diffID: layer.diffID,
    layerIndex: index,
  };
}

async function openLayer(layer: Layer, info: BlobInfo, uncompressed: boolean): Promise<Readable> {
  // An uncompressed blob is its tar: the blob's own check (by the same digest) is the tar's.
  if (!uncompressed || (layer.digest === layer.diffID && layer.size === info.size)) return layer.blob();
  // The tar is checked against the diff ID the destination names it by.
  const tar = await layer.tar();
  return verified(tar, layer.diffID, info.size, `layer ${layer.digest} (uncompressed)`);
}

async function tarSize(layer: Layer): Promise<number> {
  if (layer.uncompressedSize !== undefined) return layer.uncompressedSize;
  let n = 0;
  for await (const chunk of await layer.tar()) n += (chunk as Buffer).length;
  return n;
}

/**
 * The config, then every layer (up to the destination's figure at once): each skipped when the destination
 * has it, else streamed (verified) into it; a temporary failure is tried once more from a fresh stream. On a
 * failure the layers under way are let finish before it is thrown, so that close() finds nothing still being written.
 */
async function moveBlobs(dest: ImageDestination, plan: ImagePlan, opts: CopyImageOptions): Promise<void> {
  const { image, uncompressed } = plan;
  const progress = opts.onProgress;
  const configInfo: BlobInfo = { digest: image.config.digest, size: image.config.bytes.length, mediaType: image.config.mediaType, kind: 'config' };
  if (!(await dest.tryReuseBlob(configInfo))) await putRetrying(dest, configInfo, async () => Readable.from([image.config.bytes]), undefined);

  const limit = pLimit(Math.max(1, Math.min(opts.parallelBlobs ?? MAX_PARALLEL_BLOBS, dest.capabilities.parallelBlobs)));
  let failed = false;
  await settleAll(
    image.layers.map((layer, i) =>
      limit(async () => {
        if (failed) return;
        let info = layerInfo(layer, i, uncompressed);
        if (await dest.tryReuseBlob(info)) {
          progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'skipped' });
          return;
        }
        if (info.size < 0) info = { ...info, size: await tarSize(layer) };
        progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'start' });
        const put = () => putRetrying(dest, info, () => openLayer(layer, info, uncompressed), progress, layer.digest);
        await (info.size >= BULK_STREAMING_MIN ? duringBulkStreaming(put) : put());
        progress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'done' });
      }).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  // Told after the layers, as a push shows it (a destination that unpacks layers has taken the config first).
  progress?.({ type: 'config', digest: image.config.digest });
  progress?.({ type: 'manifest' });
}

/** Puts a blob; a temporary failure (a 5xx, a broken connection) is tried once more from a fresh stream. */
async function putRetrying(
  dest: ImageDestination,
  info: BlobInfo,
  open: () => Promise<Readable>,
  progress: ProgressSink | undefined,
  shownAs = info.digest,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const read = reading(await open(), shownAs, progress);
    try {
      await dest.putBlob(read.stream, info);
      return;
    } catch (e) {
      read.stream.destroy();
      // A blob that failed its check explains the broken upload or write that followed: it is the answer.
      const cause = read.failure() ?? e;
      if (attempt >= 2 || !isTemporary(cause)) throw cause;
    }
  }
}

/**
 * The stream a destination is given: it pulls from `source` only as the destination reads (so nothing is lost
 * to a destination that starts reading after awaits of its own), counts progress, and remembers why it failed.
 */
function reading(source: Readable, digest: string, progress: ProgressSink | undefined): { stream: Readable; failure: () => unknown } {
  let failure: unknown;
  async function* pass(): AsyncGenerator<Buffer> {
    let bytes = 0;
    let last = 0;
    try {
      for await (const chunk of source) {
        bytes += (chunk as Buffer).length;
        bulkStreamed((chunk as Buffer).length);
        const now = Date.now();
        if (progress && now - last >= 100) {
          last = now;
          progress({ type: 'bytes', digest, bytes });
        }
        yield chunk as Buffer;
      }
    } catch (e) {
      failure = e;
      throw e;
    }
    progress?.({ type: 'bytes', digest, bytes });
  }
  const stream = Readable.from(pass(), { objectMode: false });
  stream.on('close', () => source.destroy());
  return { stream, failure: () => failure };
}

function isTemporary(e: unknown): boolean {
  if (isBerthError(e)) return e.temporary === true;
  return typeof e === 'object' && e !== null && 'code' in e && ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(String((e as { code: unknown }).code));
}

/**
 * An index with every child (`--all`), or the index alone (`index-only`: its children must be at the destination
 * already). Children go first, each by its digest, then the index; the index keeps its exact bytes unless a child
 * or the index type had to change for the destination.
 */
async function copyIndex(
  src: ImageSource,
  dest: ImageDestination,
  top: ManifestBlob,
  index: ImageIndex,
  opts: CopyImageOptions,
  named: { names?: readonly string[] },
): Promise<CopyResult> {
  const caps = dest.capabilities;
  if (caps.indexTypes.length === 0)
    throw new BerthError('USAGE', `--multi-arch ${opts.multiArch}: ${dest.reference} cannot hold an image index; copy one platform (without --all)`);
  const sources: Image[] = [];
  const plans = new Map<Image, ImagePlan>();
  if (opts.multiArch === 'all') {
    for (const d of index.manifests) {
      const child = await childManifest(src, d.digest, d.mediaType);
      // A child is recompressed only when asked: gzipping its uncompressed layers for a registry would change its
      // digest, and so the index's.
      const plan = await planImage(src, caps, child.blob, child.manifest, { ...opts, keepLayers: true }, dest.reference);
      const placeholder: Image = { manifest: child.blob, config: plan.image.config, layers: [] };
      sources.push(placeholder);
      plans.set(placeholder, plan);
    }
  }
  const indexFormat: ManifestFormat | undefined = caps.indexTypes.includes(top.mediaType)
    ? undefined
    : caps.indexTypes[0] === MediaType.DockerManifestList
      ? 'docker'
      : 'oci';
  const bundle: ImageIndexBundle = await mapChildren({ index: top, children: sources }, async (c) => plans.get(c)!.image, indexFormat);
  const fixedBy = digestsFixedBy(opts);
  if (fixedBy && bundle.index.digest !== top.digest) {
    throw new BerthError(
      'USAGE',
      `${fixedBy}: the index would be rewritten for ${dest.reference} (${bundle.index.digest}, not ${top.digest}): its children or format change`,
    );
  }
  for (const source of sources) {
    const plan = plans.get(source)!;
    await moveBlobs(dest, plan, opts);
    await dest.putManifest(plan.image.manifest, { instance: plan.image.manifest.digest });
  }
  opts.onProgress?.({ type: 'manifest' });
  await dest.putManifest(bundle.index, named);
  return { digest: bundle.index.digest, mediaType: bundle.index.mediaType };
}
