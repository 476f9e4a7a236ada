import type { Readable } from 'node:stream';
import type { Image, Layer } from '../../image/image.js';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import {
  parseImageConfig,
  parseManifest,
  toDockerManifest,
  toOciManifest,
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
} from '../../oci/manifest.js';
import { hostPlatform } from '../../oci/platform.js';
import type { ImageRecord } from '../../store/images.js';
import { requireImage } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { copyImage, imageSource, putNewLayer, storeDestination } from '../../transports/copy/index.js';
import { readStoreImage } from '../../transports/store.js';
import { trace } from '../../util/trace.js';
import { goTimestamp } from '../../oci/time.js';

export type ImageFormat = 'oci' | 'docker';

export interface StepResult {
  /** The new run config. */
  config: ContainerConfig;
  /** The uncompressed layer tar the step made, if any. */
  layer?: Readable;
  /** The history entry; `empty_layer` is set when there is no layer. Undefined: no entry. */
  history?: HistoryEntry;
  format: ImageFormat;
  names?: string[];
  /** Entries to add before `history`, as they are (--squash keeps the steps' own, each empty_layer). */
  priorHistory?: HistoryEntry[];
  /** The image's and the history entry's creation time; now when undefined. */
  created?: Date;
  /** The image config's author (`commit --author`). */
  author?: string;
  /**
   * The chain ID of the layer this step made the last time it ran, when it likely makes the same
   * again (a reproducible build step run again with --no-cache): when that layer is still stored,
   * the tar is only hashed into its blob first, and unpacked (read again, from the blob) only if it
   * differs.
   */
  previousLayer?: string;
}

/**
 * An image to build on, held in memory: a build keeps the one its last step made and hands it to
 * the next step, so no step reads the image record, manifest and config back from disk.
 */
export interface BaseImage {
  /** Undefined for scratch. */
  image?: Image;
  config: ImageConfig;
  /** The manifest's layer descriptors, in OCI form. */
  layers: Descriptor[];
  /** The layers' chain IDs: what an overlay of the image stacks. */
  chain: string[];
}

/** The config and layers of an image of the store, or of `scratch` (none) when `id` is undefined. */
export async function baseImage(store: Store, id: string | undefined): Promise<BaseImage> {
  if (id === undefined) {
    const p = hostPlatform();
    return {
      config: {
        architecture: p.architecture,
        os: p.os,
        ...(p.variant ? { variant: p.variant } : {}),
        config: {},
        rootfs: { type: 'layers', diff_ids: [] },
        history: [],
      },
      layers: [],
      chain: [],
    };
  }
  const record = requireImage(await store.images(), id);
  const image = await readStoreImage(store, record);
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  const layers = parsed.kind === 'manifest' ? toOciManifest(parsed.manifest).layers : [];
  return { image, config: parseImageConfig(image.config.bytes), layers, chain: [...record.layers] };
}

/**
 * A new image over `baseId` (or scratch), as `commit` makes one: see commitImage. Returns its record.
 */
export async function commitStep(store: Store, baseId: string | undefined, step: StepResult, readBase?: BaseImage): Promise<ImageRecord> {
  return (await commitImage(store, readBase ?? (await baseImage(store, baseId)), step)).record;
}

/**
 * A new image over `base`, as a build step and `commit` make one: the step's layer (stored as an
 * uncompressed blob, so its digest is its diff ID) on top of the base's layers, the new run config
 * and one history entry. It goes into the store through the copy engine: the layer first
 * (putNewLayer: read once, its bytes going to the blob and unpacked into the layer store at the
 * same time), then the image made from its digest, by copyImage, which finds the base's layers and
 * the new one present. It is stored without names unless `names` are given: intermediate images
 * are the build cache. Returns the record and the new image, to build the next step on.
 */
export async function commitImage(store: Store, base: BaseImage, step: StepResult): Promise<{ record: ImageRecord; image: BaseImage }> {
  const created = goTimestamp(step.created ?? new Date());
  const dest = storeDestination(store, step.names ?? []);
  try {
    const blob = step.layer ? await putNewLayer(dest, step.layer, step.previousLayer !== undefined ? { likelyChain: step.previousLayer } : {}) : undefined;
    trace('commit: layer blob stored and unpacked');
    const config: ImageConfig = {
      ...base.config,
      created,
      ...(step.author ? { author: step.author } : {}),
      config: step.config,
      rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...(blob ? [blob.digest] : [])] },
      history: [
        ...(base.config.history ?? []),
        ...(step.priorHistory ?? []),
        ...(step.history ? [{ created, ...step.history, ...(blob ? {} : { empty_layer: true }) }] : []),
      ],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = digestOf(configBytes);
    const ociLayers: Descriptor[] = [...base.layers, ...(blob ? [{ mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size }] : [])];
    let manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: ociLayers,
    };
    if (step.format === 'docker') manifest = toDockerManifest(manifest);
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const layers: Layer[] = [...(base.image?.layers ?? [])];
    if (blob) {
      layers.push({
        digest: blob.digest,
        size: blob.size,
        mediaType: MediaType.OciLayer,
        diffID: blob.digest,
        uncompressedSize: blob.size,
        blob: async () => store.blobs.open(blob.digest),
        tar: async () => store.blobs.open(blob.digest),
      });
    }
    const image: Image = {
      manifest: { bytes: manifestBytes, mediaType: manifest.mediaType!, digest: digestOf(manifestBytes) },
      config: { bytes: configBytes, digest: configDigest, mediaType: manifest.config.mediaType },
      layers,
    };
    const source = imageSource('commit', image);
    // Every layer is in place already (the base's, the new one): the copy finds them and writes the record. A
    // concurrent rmi that swept one of the base's before the record was written makes it try again (as a load does).
    for (let attempt = 1; ; attempt++) {
      try {
        await copyImage(source, dest, { tmpDir: () => store.tmp.make('commit') });
        break;
      } catch (e) {
        if (attempt >= 3 || !dest.lostToRemoval) throw e;
      }
    }
    const record = dest.record!;
    return { record, image: { image, config, layers: ociLayers, chain: [...record.layers] } };
  } finally {
    // Without a record, this takes back the new layer and anything else the copy added.
    await dest.close();
  }
}
