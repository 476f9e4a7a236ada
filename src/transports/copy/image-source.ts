/**
 * An ImageSource over images already read into memory (manifests and configs at hand, layers opened lazily):
 * what the archive, layout, directory and store readers give, and what an in-memory image with changes is.
 */
import { Readable } from 'node:stream';
import type { Image, ImageIndexBundle, ManifestBlob } from '../../image/image.js';
import { BerthError } from '../../util/errors.js';
import type { BlobInfo, ImageSource } from './types.js';

function isBundle(x: Image | ImageIndexBundle): x is ImageIndexBundle {
  return 'children' in x;
}

/**
 * `read` as a source: an Image (picked already: its `index`, when it came from one, is only `chosenFrom`) or an
 * index with its children. `close` frees what the reader holds (a registry client, a spooled archive).
 */
export function imageSource(
  reference: string,
  read: Image | ImageIndexBundle,
  opts: { names?: readonly string[]; close?: () => Promise<void> | void; openLayer?: (blob: BlobInfo) => Promise<Readable> } = {},
): ImageSource {
  const images = isBundle(read) ? [...read.children] : [read];
  const top: ManifestBlob = isBundle(read) ? read.index : read.manifest;
  const manifests = new Map<string, ManifestBlob>();
  const blobs = new Map<string, () => Promise<Readable>>();
  const tarSizes = new Map<string, number>();
  for (const image of images) {
    for (const layer of image.layers) if (layer.uncompressedSize !== undefined) tarSizes.set(layer.digest, layer.uncompressedSize);
    manifests.set(image.manifest.digest, image.manifest);
    const config = image.config.bytes;
    blobs.set(image.config.digest, async () => Readable.from([config]));
    for (const layer of image.layers) blobs.set(layer.digest, () => layer.blob());
    // A source that can open a layer more cheaply than the image's own reader (unverified: the copy verifies).
    if (opts.openLayer)
      for (const layer of image.layers)
        blobs.set(layer.digest, () => opts.openLayer!({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, kind: 'layer' }));
  }
  let closed = false;
  return {
    reference,
    names: opts.names ?? [],
    tarSizes,
    ...(!isBundle(read) && read.index ? { chosenFrom: read.index } : {}),
    async getManifest(instance?: string) {
      if (instance === undefined) return top;
      const m = manifests.get(instance);
      if (!m) throw new BerthError('IMAGE_UNKNOWN', `${reference}: no manifest ${instance} here`);
      return m;
    },
    async getBlob(blob: BlobInfo) {
      const open = blobs.get(blob.digest);
      if (!open) throw new BerthError('IMAGE_UNKNOWN', `${reference}: no blob ${blob.digest} here`);
      return open();
    },
    async close() {
      if (closed) return;
      closed = true;
      await opts.close?.();
    },
  };
}
