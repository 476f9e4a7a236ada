import type { Readable } from 'node:stream';
import type { Image, Layer } from '../../image/image.js';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { parseImageConfig, parseManifest, toDockerManifest, toOciManifest, type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest } from '../../oci/manifest.js';
import { hostPlatform } from '../../oci/platform.js';
import type { ImageRecord } from '../../store/images.js';
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
}

/** The config and layers of an image of the store, or of `scratch` (none) when `id` is undefined. */
export async function baseImage(store: Store, id: string | undefined): Promise<{ image?: Image; config: ImageConfig; layers: Descriptor[] }> {
  if (id === undefined) {
    const p = hostPlatform();
    return {
      config: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
      layers: [],
    };
  }
  const image = await readStoreImage(store, requireImage(await store.images(), id));
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  const layers = parsed.kind === 'manifest' ? toOciManifest(parsed.manifest).layers : [];
  return { image, config: parseImageConfig(image.config.bytes), layers };
}

/**
 * A new image over `baseId` (or scratch), as a build step and `commit` make one: the step's layer (stored as an uncompressed blob, so its
 * digest is its diff ID) on top of the base's layers, the new run config and one history entry.
 * It is stored without names unless `names` are given: intermediate images are the build cache.
 */
export async function commitStep(store: Store, baseId: string | undefined, step: StepResult, readBase?: Awaited<ReturnType<typeof baseImage>>): Promise<ImageRecord> {
  const base = readBase ?? (await baseImage(store, baseId));
  const created = goTimestamp(step.created ?? new Date());
  const blob = step.layer ? await store.blobs.put(step.layer) : undefined;
  trace('commit: layer blob stored');
  const config: ImageConfig = {
    ...base.config,
    created,
    ...(step.author ? { author: step.author } : {}),
    config: step.config,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...(blob ? [blob.digest] : [])] },
    history: [...(base.config.history ?? []), ...(step.priorHistory ?? []), ...(step.history ? [{ created, ...step.history, ...(blob ? {} : { empty_layer: true }) }] : [])],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = digestOf(configBytes);
  let manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
    layers: [...base.layers, ...(blob ? [{ mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size }] : [])],
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
    return await writeStoreImage(store, { image, names: step.names ?? [] });
  } catch (e) {
    if (blob) await store.collectGarbage({ candidates: { layers: [], blobs: [blob.digest] } }).catch(() => undefined);
    throw e;
  }
}
