import { PassThrough, type Readable } from 'node:stream';
import type { Image, Layer } from '../../image/image.js';
import { chainIDs, digestOf } from '../../oci/digest.js';
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
import type { BlobInfo } from '../../store/blobs.js';
import type { ImageRecord } from '../../store/images.js';
import type { StagedLayer } from '../../store/layers.js';
import { requireImage } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { readStoreImage, writeStoreImage } from '../../transports/store.js';
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
 * and one history entry. The layer is read once: its bytes go to the blob and are unpacked into the
 * layer store at the same time. It is stored without names unless `names` are given: intermediate
 * images are the build cache. Returns the record and the new image, to build the next step on.
 */
export async function commitImage(store: Store, base: BaseImage, step: StepResult): Promise<{ record: ImageRecord; image: BaseImage }> {
  const created = goTimestamp(step.created ?? new Date());
  const stored = step.layer ? await storeLayer(store, step.layer, base.chain.at(-1), step.previousLayer) : undefined;
  const blob = stored?.blob;
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
  try {
    // The layer is in place already (blob and unpacked layer): the store only checks it is there.
    const record = await writeStoreImage(store, { image, names: step.names ?? [] });
    return { record, image: { image, config, layers: ociLayers, chain: [...record.layers] } };
  } catch (e) {
    if (stored) await store.collectGarbage({ candidates: { layers: [stored.chainID], blobs: [stored.blob.digest] } }).catch(() => undefined);
    throw e;
  }
}

/**
 * Stores a layer tar as an uncompressed blob and unpacks it into the layer store from the same
 * read, as a pull tees a download into its blob and its unpacking (transports/store.ts): the tar's
 * digest, hashed once for the blob, is its diff ID. The layer is published over `parentChain`.
 * When `previous` (the layer the same step made before) is stored, the tar is likely the same
 * again: it is hashed into its blob alone, and unpacked from the blob only if it is not that layer.
 */
async function storeLayer(
  store: Store,
  tar: Readable,
  parentChain: string | undefined,
  previous: string | undefined,
): Promise<{ blob: BlobInfo; chainID: string }> {
  const chainOf = (digest: string) => (parentChain === undefined ? digest : chainIDs([parentChain, digest]).at(-1)!);
  if (previous !== undefined && (await store.layers.get(previous))) {
    const blob = await store.blobs.put(tar);
    const chainID = chainOf(blob.digest);
    if (!(await store.layers.get(chainID))) {
      const staged = await store.layers.stage(store.blobs.open(blob.digest), { diffID: Promise.resolve(blob.digest) }).catch(async (e: unknown) => {
        await store.collectGarbage({ candidates: { layers: [], blobs: [blob.digest] } }).catch(() => undefined);
        throw e;
      });
      await publishStaged(store, staged, chainID, parentChain);
    }
    return { blob, chainID };
  }
  const toBlob = new PassThrough();
  const toTar = new PassThrough();
  tar.on('error', (e) => {
    toBlob.destroy(e);
    toTar.destroy(e);
  });
  // The promises below report every failure: no stray 'error' event may go unhandled.
  toBlob.on('error', () => undefined);
  toTar.on('error', () => undefined);
  tar.pipe(toBlob);
  tar.pipe(toTar);
  const blob = store.blobs.put(toBlob).catch((e: unknown) => {
    toTar.destroy(e as Error);
    throw e;
  });
  const diffID = blob.then((b) => b.digest);
  diffID.catch(() => undefined);
  const staged = store.layers.stage(toTar, { diffID }).catch((e: unknown) => {
    toBlob.destroy(e as Error);
    throw e;
  });
  const [b, st] = await Promise.allSettled([blob, staged]);
  if (b.status === 'rejected' || st.status === 'rejected') {
    if (st.status === 'fulfilled') await store.layers.discard(st.value);
    if (b.status === 'fulfilled') await store.collectGarbage({ candidates: { layers: [], blobs: [b.value.digest] } }).catch(() => undefined);
    // The tar's own failure (the step's diff) explains a broken unpack too: report the blob's first.
    throw b.status === 'rejected' ? b.reason : (st as PromiseRejectedResult).reason;
  }
  const chainID = chainOf(b.value.digest);
  await publishStaged(store, st.value, chainID, parentChain);
  return { blob: b.value, chainID };
}

async function publishStaged(store: Store, staged: StagedLayer, chainID: string, parent: string | undefined): Promise<void> {
  try {
    await store.layers.publish(staged, chainID, parent);
  } catch (e) {
    await store.layers.discard(staged);
    throw e;
  }
}
