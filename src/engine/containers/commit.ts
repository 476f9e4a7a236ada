import { toDockerManifest } from '../../oci/manifest.js';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { parseImageConfig, parseManifest, type ImageManifest } from '../../oci/manifest.js';
import { diffDirectory } from '../../archive/diff.js';
import { applyChanges } from '../../image/changes.js';
import type { Image, Layer } from '../../image/image.js';
import { requireImage, storedName } from '../../store/lookup.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import { readStoreImage, writeStoreImage } from '../../transports/store.js';
import { getContainer, pauseContainer, unpauseContainer } from './lifecycle.js';
import { containerPaths } from './paths.js';

export interface CommitOptions {
  changes?: string[];
  message?: string;
  author?: string;
  pause?: boolean;
  format?: 'oci' | 'docker';
}

/**
 * A new image from a container: the image it was made from, plus one layer holding the
 * container's changes (its overlay upperdir as a layer tar, whiteouts included), with the config
 * changes and a history entry. The container is paused meanwhile when it runs, so the layer is
 * one consistent moment.
 */
export async function commitContainer(store: Store, nameOrId: string, name: string | undefined, opts: CommitOptions = {}): Promise<ImageRecord> {
  const names = name ? [storedName(name)] : [];
  const c = await getContainer(store, nameOrId);
  const paths = containerPaths(store, c.id);
  const pause = (opts.pause ?? true) && c.state.status === 'running';
  if (pause) await pauseContainer(store, c.id);
  try {
    const layerBlob = await store.blobs.put(diffDirectory(paths.overlay.upper));
    const baseRecord = requireImage(await store.images(), c.image);
    const base = await readStoreImage(store, baseRecord);
    const baseConfig = parseImageConfig(base.config.bytes);
    const created = new Date().toISOString();
    const runConfig = applyChanges({ ...(baseConfig.config ?? {}) }, opts.changes ?? []);
    const config = {
      ...baseConfig,
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: runConfig,
      rootfs: { type: 'layers' as const, diff_ids: [...baseConfig.rootfs.diff_ids, layerBlob.digest] },
      history: [
        ...(baseConfig.history ?? []),
        {
          created,
          created_by: [...c.config.entrypoint, ...c.config.command].join(' '),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
      ],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = digestOf(configBytes);
    const baseManifest = parseManifest(base.manifest.bytes, base.manifest.mediaType);
    const baseLayers = baseManifest.kind === 'manifest' ? baseManifest.manifest.layers : [];
    let manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: [...baseLayers, { mediaType: MediaType.OciLayer, digest: layerBlob.digest, size: layerBlob.size }],
    };
    if (opts.format === 'docker') manifest = toDockerManifest(manifest);
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const newLayer: Layer = {
      digest: layerBlob.digest,
      size: layerBlob.size,
      mediaType: MediaType.OciLayer,
      diffID: layerBlob.digest,
      uncompressedSize: layerBlob.size,
      blob: async () => store.blobs.open(layerBlob.digest),
      tar: async () => store.blobs.open(layerBlob.digest),
    };
    const image: Image = {
      manifest: { bytes: manifestBytes, mediaType: manifest.mediaType!, digest: digestOf(manifestBytes) },
      config: { bytes: configBytes, digest: configDigest, mediaType: manifest.config.mediaType },
      layers: [...base.layers, newLayer],
    };
    try {
      return await writeStoreImage(store, { image, names });
    } catch (e) {
      await store.collectGarbage({ candidates: { layers: [], blobs: [layerBlob.digest] } });
      throw e;
    }
  } finally {
    if (pause) await unpauseContainer(store, c.id).catch(() => undefined);
  }
}
