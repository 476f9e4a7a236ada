/** `berth:NAME`: the local store as an ImageDestination (one image; an index is not stored, only remembered beside it). */
import type { Readable } from 'node:stream';
import type { ManifestBlob } from '../../image/image.js';
import { chainIDs, digestOf } from '../../oci/digest.js';
import { parseImageConfig } from '../../oci/manifest.js';
import type { ImageRecord } from '../../store/images.js';
import type { SignaturesByDigest } from '../../store/image-signatures.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import type { StagedLayer } from '../../store/layers.js';
import { blobAndStagedLayer, layerSize, putLayer, putSmallBlob, upsertImage, type Added } from '../store.js';
import { copyImage, type CopyImageOptions } from './copy-image.js';
import type { BlobInfo, DestinationCapabilities, ImageDestination, ImageSource } from './types.js';

const CAPABILITIES: DestinationCapabilities = {
  manifestTypes: 'any',
  indexTypes: [],
  needsUncompressed: false,
  prefersCompressed: false,
  compressions: ['none', 'gzip', 'zstd'],
  canReuseBlobs: true,
  keepsDigests: true,
  // Unpacking is disk and CPU bound (as writeStoreImage's figure).
  parallelBlobs: 2,
  multipleImages: false,
  takesNewLayers: true,
};

export interface StoreDestination extends ImageDestination {
  keepSignatures(digest: string, signatures: readonly UnverifiedSignature[]): void;
  /** The record written by commit(). */
  readonly record: ImageRecord | undefined;
  /** commit() found a layer or blob gone that the copy had found present (a concurrent rmi): a new copy may do. */
  readonly lostToRemoval: boolean;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The store as a destination: blobs verified in, each layer unpacked once, the record written under the lock at commit.
 * It takes new layers too (a build step's, `commit`'s: putNewLayer), written and unpacked from one read.
 */
export function storeDestination(store: Store, names: readonly string[], opts: { onProgress?: ProgressSink } = {}): StoreDestination {
  const added: Added = { blobs: [], layers: [] };
  let config: { bytes: Buffer; digest: string; mediaType: string } | undefined;
  let chain: string[] = [];
  const layerDigests: string[] = [];
  let manifest: ManifestBlob | undefined;
  let index: ManifestBlob | undefined;
  let record: ImageRecord | undefined;
  let closed = false;
  let lostToRemoval = false;
  // New layers written and unpacked (putNewLayer), each published when the copy names it under its chain ID.
  const pending = new Map<string, StagedLayer>();
  // The signatures the copy carries (keepSignatures), written with the record.
  const signatures: SignaturesByDigest = {};

  const takeConfig = (bytes: Buffer, info: BlobInfo): void => {
    config = { bytes, digest: info.digest, mediaType: info.mediaType };
    chain = chainIDs(parseImageConfig(bytes).rootfs.diff_ids);
  };
  const chainOf = (info: BlobInfo): { chainID: string; parent: string | undefined } => {
    const i = info.layerIndex;
    if (i === undefined || !config || chain[i] === undefined) throw new BerthError('INTERNAL', `layer ${info.digest} given to the store before its config`);
    return { chainID: chain[i]!, parent: i > 0 ? chain[i - 1] : undefined };
  };
  const asLayer = (info: BlobInfo, open: () => Promise<Readable>) => ({
    digest: info.digest,
    size: info.size,
    mediaType: info.mediaType,
    diffID: info.diffID ?? '',
    // The copy verifies every stream it gives (transports/copy/verify.ts): the store need not hash it again.
    blobVerified: true,
    blob: open,
    tar: async () => {
      throw new BerthError('INTERNAL', 'the store takes layer blobs');
    },
  });

  const publishNew = async (staged: StagedLayer, info: BlobInfo, chainID: string, parent: string | undefined): Promise<void> => {
    if (staged.diffID !== info.diffID) {
      await store.layers.discard(staged);
      throw new BerthError('LAYER_INVALID', `layer ${info.digest} unpacks to ${staged.diffID}, but the image config says ${info.diffID}`);
    }
    try {
      await store.layers.publish(staged, chainID, parent);
    } catch (e) {
      await store.layers.discard(staged);
      throw e;
    }
    added.layers.push(chainID);
  };

  const reference = `berth:${names[0] ?? ''}`;
  return {
    reference,
    capabilities: CAPABILITIES,
    get record() {
      return record;
    },
    get lostToRemoval() {
      return lostToRemoval;
    },
    async tryReuseBlob(info) {
      if (info.kind === 'config') {
        if (!(await store.blobs.has(info.digest))) return false;
        takeConfig(await store.blobs.read(info.digest), info);
        return true;
      }
      const { chainID, parent } = chainOf(info);
      layerDigests[info.layerIndex!] = info.digest;
      const staged = pending.get(info.digest);
      if (staged) {
        pending.delete(info.digest);
        await publishNew(staged, info, chainID, parent);
        return true;
      }
      if (!(await store.blobs.has(info.digest))) return false;
      // The blob is here: the layer is unpacked from it if it is not (no byte comes from the source).
      await putLayer(
        store,
        asLayer(info, async () => store.blobs.open(info.digest)),
        chainID,
        parent,
        added,
        opts.onProgress,
      );
      return true;
    },
    async putBlob(stream, info) {
      if (info.kind === 'config') {
        const bytes = await readAll(stream);
        if (digestOf(bytes) !== info.digest) throw new BerthError('DIGEST_MISMATCH', `image config does not match its digest ${info.digest}`);
        await putSmallBlob(store, { bytes, digest: info.digest }, added);
        takeConfig(bytes, info);
        return;
      }
      const { chainID, parent } = chainOf(info);
      layerDigests[info.layerIndex!] = info.digest;
      await putLayer(
        store,
        asLayer(info, async () => stream),
        chainID,
        parent,
        added,
        opts.onProgress,
      );
    },
    async putNewLayer(tar, o = {}) {
      if (o.likelyChain !== undefined && (await store.layers.get(o.likelyChain))) {
        // Most likely the layer made last time: hashed into its blob alone, unpacked (by tryReuseBlob) only if not.
        const blob = await store.blobs.put(tar);
        added.blobs.push(blob.digest);
        return { digest: blob.digest, size: blob.size };
      }
      const { blob, staged } = await blobAndStagedLayer(store, tar, {}, { tar: true });
      added.blobs.push(blob.digest);
      const before = pending.get(blob.digest);
      pending.set(blob.digest, staged);
      if (before) await store.layers.discard(before);
      return { digest: blob.digest, size: blob.size };
    },
    async putManifest(m, o = {}) {
      if (o.instance !== undefined) throw new BerthError('USAGE', `${reference}: the store holds one image, not an index`);
      manifest = m;
      if (o.chosenFrom) index = o.chosenFrom;
    },
    keepSignatures(digest, list) {
      signatures[digest] = [...list];
    },
    async commit() {
      if (!config || !manifest) throw new BerthError('INTERNAL', 'commit before the config and manifest were given');
      // Told here, after the layers, as writeStoreImage tells it (the config was taken first, to unpack the layers).
      opts.onProgress?.({ type: 'config', digest: config.digest });
      opts.onProgress?.({ type: 'manifest' });
      const image = { manifest, ...(index ? { index } : {}), config, layers: layerDigests.map((digest) => ({ digest })) };
      await putSmallBlob(store, manifest, added);
      if (index) await putSmallBlob(store, index, added);
      const small = [config, manifest, ...(index ? [index] : [])];
      const size = await layerSize(store, chain);
      record = await store.updateImages(async (images) => {
        // A concurrent rmi may have swept a layer or blob found present: check under the lock.
        for (let i = 0; i < chain.length; i++) {
          if (!(await store.layers.get(chain[i]!)) || !(await store.blobs.has(layerDigests[i]!))) return undefined;
        }
        for (const blob of small) if (!(await store.blobs.has(blob.digest))) return undefined;
        const added = !images.some((i) => i.id === config!.digest);
        const upserted = upsertImage(images, image, chain, size, [...names]);
        await store.keepImageSignatures(upserted.id, signatures, added);
        return upserted;
      });
      lostToRemoval = record === undefined;
      if (!record) throw new BerthError('IO', 'layers disappeared while the image was stored (concurrent removal); try again', { temporary: true });
    },
    async close() {
      if (closed) return;
      closed = true;
      // A new layer no copy named is dropped unseen.
      for (const staged of pending.values()) await store.layers.discard(staged).catch(() => undefined);
      pending.clear();
      // Take back what this copy added and no image uses: a failed copy leaves the store as it was.
      if (!record) await store.collectGarbage({ candidates: added }).catch(() => undefined);
    },
  };
}

/**
 * Copies `source` into the store under `names` and gives the record. Should a concurrent removal take a layer the
 * copy found present before the record is written, the copy is made again (at most three times), as
 * writeStoreImage does.
 */
export async function copyIntoStore(
  store: Store,
  source: ImageSource,
  names: readonly string[],
  opts: {
    onProgress?: ProgressSink;
    tmpDir: () => Promise<string>;
    admit?: CopyImageOptions['admit'];
    /** The signatures to keep with the image, asked once its top manifest is read and admitted (none: keep none). */
    signatures?: (top: { digest: string }) => Promise<readonly UnverifiedSignature[]>;
  },
): Promise<ImageRecord> {
  for (let attempt = 1; ; attempt++) {
    const dest = storeDestination(store, names, opts.onProgress ? { onProgress: opts.onProgress } : {});
    const { admit, signatures } = opts;
    const admitAndKeep: CopyImageOptions['admit'] =
      admit || signatures
        ? async (top) => {
            await admit?.(top);
            if (signatures) dest.keepSignatures(top.digest, await signatures(top));
          }
        : undefined;
    try {
      await copyImage(source, dest, { tmpDir: opts.tmpDir, ...(admitAndKeep ? { admit: admitAndKeep } : {}) });
      return dest.record!;
    } catch (e) {
      if (attempt >= 3 || !dest.lostToRemoval) throw e;
    } finally {
      await dest.close();
    }
  }
}
