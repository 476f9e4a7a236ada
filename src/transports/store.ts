import { PassThrough, type Readable } from 'node:stream';
import pLimit from 'p-limit';
import { autoDecompress, detectAndDecompress } from '../archive/compression.js';
import { chainIDs, digestOf } from '../oci/digest.js';
import { parseImageConfig, parseManifest } from '../oci/manifest.js';
import type { Image, Layer, NamedImage } from '../image/image.js';
import type { ImageRecord } from '../store/images.js';
import type { BlobInfo } from '../store/blobs.js';
import type { StagedLayer } from '../store/layers.js';
import type { Store } from '../store/store.js';
import { BerthError } from '../util/errors.js';
import { countProgress, type ProgressSink } from '../util/progress.js';
import { trace } from '../util/trace.js';
import { settleAll } from '../util/settle-all.js';

/** How many layers a local copy unpacks at once: unpacking is disk and CPU bound (2 cores here). */
const LOCAL_LAYER_CONCURRENCY = 2;

/** Reads an image of the store as the transport-neutral Image. */
export async function readStoreImage(store: Store, record: ImageRecord): Promise<Image> {
  const manifestBytes = await store.blobs.read(record.manifestDigest);
  const parsed = parseManifest(manifestBytes, record.manifestMediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_INVALID', `image ${record.id}: stored manifest is an index`);
  const configBytes = await store.blobs.read(record.id);
  const config = parseImageConfig(configBytes);
  const diffIDs = config.rootfs.diff_ids;
  const layers: Layer[] = await Promise.all(
    parsed.manifest.layers.map(async (desc, i) => {
      const layerRecord = record.layers[i] ? await store.layers.get(record.layers[i]!) : undefined;
      const blobDigest = desc.digest;
      const open = async (): Promise<Readable> => {
        if (!(await store.blobs.has(blobDigest))) throw new BerthError('IO', `layer blob ${blobDigest} of image ${record.id} is missing from the store`);
        return store.blobs.open(blobDigest);
      };
      return {
        digest: desc.digest,
        size: desc.size,
        mediaType: desc.mediaType,
        diffID: diffIDs[i]!,
        ...(layerRecord ? { uncompressedSize: layerRecord.tarSize } : {}),
        blob: open,
        tar: async () => autoDecompress(await open()),
      };
    }),
  );
  const index = record.indexDigest
    ? {
        bytes: await store.blobs.read(record.indexDigest),
        digest: record.indexDigest,
        mediaType: parseManifest(await store.blobs.read(record.indexDigest)).mediaType,
      }
    : undefined;
  return {
    manifest: { bytes: manifestBytes, digest: record.manifestDigest, mediaType: parsed.mediaType },
    ...(index ? { index } : {}),
    config: { bytes: configBytes, digest: record.id, mediaType: parsed.manifest.config.mediaType },
    layers,
  };
}

/**
 * Stores an image: blobs verified against their digests, each layer unpacked once (skipped when
 * already there), then the record written under the lock. Names move to this image from any
 * image that held them, as `podman tag` and `podman load` do.
 */
export async function writeStoreImage(store: Store, { image, names }: NamedImage, onProgress?: ProgressSink): Promise<ImageRecord> {
  if (digestOf(image.config.bytes) !== image.config.digest) {
    throw new BerthError('DIGEST_MISMATCH', `image config does not match its digest ${image.config.digest}`);
  }
  if (digestOf(image.manifest.bytes, image.manifest.digest.startsWith('sha512:') ? 'sha512' : 'sha256') !== image.manifest.digest) {
    throw new BerthError('DIGEST_MISMATCH', `image manifest does not match its digest ${image.manifest.digest}`);
  }
  const config = parseImageConfig(image.config.bytes);
  const diffIDs = config.rootfs.diff_ids;
  if (diffIDs.length !== image.layers.length) {
    throw new BerthError(
      'MANIFEST_INVALID',
      `image ${image.config.digest}: manifest lists ${image.layers.length} layers but the config has ${diffIDs.length} diff IDs`,
    );
  }
  const chain = chainIDs(diffIDs);

  const added: Added = { blobs: [], layers: [] };
  try {
    return await recordImage(store, image, chain, names, added, onProgress);
  } catch (e) {
    // Take back what this write added and no image uses: a failed load leaves the store as it was.
    await store.collectGarbage({ candidates: added }).catch(() => undefined);
    throw e;
  }
}

async function recordImage(store: Store, image: Image, chain: string[], names: string[], added: Added, onProgress?: ProgressSink): Promise<ImageRecord> {
  for (let attempt = 0; ; attempt++) {
    await putLayers(store, image, chain, added, onProgress);
    trace('store: layers in place');
    onProgress?.({ type: 'config', digest: image.config.digest });
    await putSmallBlob(store, image.config, added);
    onProgress?.({ type: 'manifest' });
    await putSmallBlob(store, image.manifest, added);
    if (image.index) await putSmallBlob(store, image.index, added);
    const small = [image.config, image.manifest, ...(image.index ? [image.index] : [])];
    trace('store: config and manifest stored');
    const record = await store.updateImages(async (images) => {
      // A concurrent rmi, or a failed load taking back what it added, may have swept a layer or
      // blob we found present: check under the lock.
      for (let i = 0; i < chain.length; i++) {
        if (!(await store.layers.get(chain[i]!)) || !(await store.blobs.has(image.layers[i]!.digest))) return undefined;
      }
      for (const blob of small) if (!(await store.blobs.has(blob.digest))) return undefined;
      return upsertImage(images, image, chain, await layerSize(store, chain), names);
    });
    if (record) return record;
    if (attempt >= 2) throw new BerthError('IO', 'layers kept disappearing while the image was stored (concurrent removal)', { temporary: true });
  }
}

/** A config, manifest or index blob; counted in `added` only when this write published it. */
export async function putSmallBlob(store: Store, blob: { bytes: Buffer; digest: string }, added: Added): Promise<void> {
  if (await store.blobs.has(blob.digest)) return;
  await store.blobs.putBytes(blob.bytes, blob.digest);
  added.blobs.push(blob.digest);
}

/** What a write added to the store, so that a failed write can take it back out. */
export interface Added {
  blobs: string[];
  layers: string[];
}

/**
 * Puts every layer in place. On a failure the others are let finish (none starts any more) before
 * it is thrown: a layer still being written when the caller takes back what was `added` would be
 * published after that clean-up and stay behind, used by no image.
 */
async function putLayers(store: Store, image: Image, chain: string[], added: Added, onProgress?: ProgressSink): Promise<void> {
  const limit = pLimit(LOCAL_LAYER_CONCURRENCY);
  let failed = false;
  await settleAll(
    image.layers.map((layer, i) =>
      limit(async () => {
        if (failed) return;
        await putLayer(store, layer, chain[i]!, i > 0 ? chain[i - 1] : undefined, added, onProgress);
      }).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
}

/**
 * Puts one layer in place: its blob (verified) and its unpacked tree at `chainID`, each skipped when there
 * already. What it adds goes into `added`. Returns false when both were there (nothing was read).
 */
export async function putLayer(
  store: Store,
  layer: Layer,
  chainID: string,
  parentChainID: string | undefined,
  added: Added,
  onProgress?: ProgressSink,
): Promise<boolean> {
  const haveBlob = await store.blobs.has(layer.digest);
  const haveLayer = (await store.layers.get(chainID)) !== undefined;
  if (haveBlob && haveLayer) {
    onProgress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'skipped' });
    return false;
  }
  onProgress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'start' });
  let staged: StagedLayer | undefined;
  if (!haveBlob) {
    staged = await copyBlob(store, layer, !haveLayer, onProgress);
    added.blobs.push(layer.digest);
  } else {
    staged = await store.layers.stage(await autoDecompress(store.blobs.open(layer.digest)));
  }
  if (staged) {
    if (staged.diffID !== layer.diffID) {
      await store.layers.discard(staged);
      throw new BerthError('LAYER_INVALID', `layer ${layer.digest} unpacks to ${staged.diffID}, but the image config says ${layer.diffID}`);
    }
    // Published only now: the blob's digest and the tar's diff ID have both been checked.
    await store.layers.publish(staged, chainID, parentChainID);
    added.layers.push(chainID);
  }
  onProgress?.({ type: 'blob', digest: layer.digest, size: layer.size, state: 'done' });
  return true;
}

/**
 * Bytes each branch of blobAndStagedLayer's tee holds before the input waits: a few socket reads,
 * so that a short stall of one branch (a write, an inflate on the thread pool) does not pause the
 * other at once. Node's default is one read (64 KiB).
 */
const TEE_BUFFER = 256 * 1024;

/**
 * Streams a layer blob into the store and, when `unpack`, into a staged layer at the same time:
 * one read of the source, the writing and the unpacking overlapping. Nothing becomes visible
 * unless the blob matches its digest; the staged layer is published by the caller after its diff
 * ID is checked.
 */
async function copyBlob(store: Store, layer: Layer, unpack: boolean, onProgress?: ProgressSink): Promise<StagedLayer | undefined> {
  const source = await layer.blob();
  // Counted only for a progress sink: a stage less for every chunk of a quiet pull.
  const counted = onProgress ? source.pipe(countProgress(layer.digest, onProgress)) : source;
  if (counted !== source) source.on('error', (e) => counted.destroy(e));
  const expected = { digest: layer.digest, size: layer.size, verifiedBySource: layer.blobVerified === true };
  if (!unpack) {
    await store.blobs.put(counted, expected);
    return undefined;
  }
  return (await blobAndStagedLayer(store, counted, expected)).staged;
}

/**
 * Writes `input` into a blob and, from the same read, unpacks it into a staged layer (not visible until the caller
 * publishes it): a pull's download (`expected` its digest), or a build step's new layer tar (`tar`: known
 * uncompressed, its digest learnt here, which is its diff ID). An uncompressed blob is hashed once, for the blob.
 * On a failure nothing this wrote is left.
 */
export async function blobAndStagedLayer(
  store: Store,
  input: Readable,
  expected: { digest?: string; size?: number; verifiedBySource?: boolean } = {},
  opts: { tar?: boolean } = {},
): Promise<{ blob: BlobInfo; staged: StagedLayer }> {
  const toBlob = new PassThrough({ highWaterMark: TEE_BUFFER });
  const toTar = new PassThrough({ highWaterMark: TEE_BUFFER });
  input.on('error', (e) => {
    toBlob.destroy(e);
    toTar.destroy(e);
  });
  // The promises below report every failure; a source that fails after the tar reader is done
  // (a digest checked at the end of a download) must not be an unhandled 'error' event.
  toBlob.on('error', () => undefined);
  toTar.on('error', () => undefined);
  input.pipe(toBlob);
  input.pipe(toTar);
  const blob = store.blobs.put(toBlob, expected).catch((e: unknown) => {
    toTar.destroy(e as Error);
    throw e;
  });
  // An uncompressed blob's digest is its diff ID: hash the bytes once, for the blob. (Handled here
  // too: when staging fails first nobody awaits it, and its rejection must not go unhandled.)
  const blobDigest = blob.then((b) => b.digest);
  blobDigest.catch(() => undefined);
  const tar = opts.tar ? Promise.resolve({ stream: toTar as Readable, compression: 'none' as const }) : detectAndDecompress(toTar);
  const staged = tar
    .then(({ stream, compression }) => store.layers.stage(stream, compression === 'none' ? { diffID: blobDigest } : {}))
    .catch((e: unknown) => {
      toBlob.destroy(e as Error);
      throw e;
    });
  const [b, st] = await Promise.allSettled([blob, staged]);
  if (b.status === 'fulfilled' && st.status === 'fulfilled') return { blob: b.value, staged: st.value };
  if (st.status === 'fulfilled') await store.layers.discard(st.value);
  if (b.status === 'fulfilled') await store.collectGarbage({ candidates: { layers: [], blobs: [b.value.digest] } });
  // A digest mismatch explains a broken tar too (and the tar's own failure a broken unpack): report the blob's first.
  throw b.status === 'rejected' ? b.reason : (st as PromiseRejectedResult).reason;
}

export async function layerSize(store: Store, chain: string[]): Promise<number> {
  let size = 0;
  for (const c of chain) size += (await store.layers.get(c))?.size ?? 0;
  return size;
}

/** Adds or merges an image record and moves `names` onto it. Mutates `images`. */
export function upsertImage(
  images: ImageRecord[],
  image: Pick<Image, 'manifest' | 'index' | 'config'> & { layers: readonly { digest: string }[] },
  chain: string[],
  size: number,
  names: string[],
): ImageRecord {
  const config = parseImageConfig(image.config.bytes);
  for (const other of images) {
    if (other.id !== image.config.digest) other.names = other.names.filter((n) => !names.includes(n));
  }
  let record = images.find((i) => i.id === image.config.digest);
  if (!record) {
    record = {
      id: image.config.digest,
      names: [],
      digests: [],
      manifestDigest: image.manifest.digest,
      manifestMediaType: image.manifest.mediaType,
      ...(image.index ? { indexDigest: image.index.digest } : {}),
      layers: chain,
      layerBlobs: image.layers.map((l) => l.digest),
      size,
      created: config.created ?? new Date(0).toISOString(),
      added: new Date().toISOString(),
    };
    images.push(record);
  }
  for (const n of names) if (!record.names.includes(n)) record.names.push(n);
  for (const d of [image.manifest.digest, ...(image.index ? [image.index.digest] : [])]) {
    if (!record.digests.includes(d)) record.digests.push(d);
  }
  return record;
}
