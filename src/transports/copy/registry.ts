/** `docker://REF` as an ImageDestination: blobs uploaded (or found by HEAD, or mounted), manifests PUT last. */
import { formatReference, type ImageReference } from '../../oci/reference.js';
import { MediaType } from '../../oci/mediatypes.js';
import { BerthError } from '../../util/errors.js';
import { blobExists, mountBlob, uploadBlob } from '../docker/blobs.js';
import { RegistryClient, type RegistryOptions } from '../docker/client.js';
import type { DestinationCapabilities, ImageDestination } from './types.js';

/**
 * A registry takes both manifest formats; one that refuses the one it is given fails the copy (the format is
 * chosen up front: push --format, or the source's own), never retried in the other format.
 */
const CAPABILITIES: DestinationCapabilities = {
  manifestTypes: [MediaType.OciManifest, MediaType.DockerManifest],
  indexTypes: [MediaType.OciIndex, MediaType.DockerManifestList],
  needsUncompressed: false,
  prefersCompressed: true,
  compressions: ['gzip', 'zstd', 'none'],
  canReuseBlobs: true,
  keepsDigests: true,
  parallelBlobs: 6,
  multipleImages: false,
  takesNewLayers: false,
};

export interface RegistryDestinationOptions extends RegistryOptions {
  /** Other repositories of the same registry that may hold the blobs: tried as mount sources. */
  mountFrom?: readonly string[];
  /** Blobs above this size go up in PATCH chunks of it. */
  chunkSize?: number;
  /** A client to use (and leave open); otherwise one is opened here and closed by close(). */
  client?: RegistryClient;
}

/** `ref` names a tag (default latest) or a digest the top manifest must have. */
export async function registryDestination(ref: ImageReference, opts: RegistryDestinationOptions = {}): Promise<ImageDestination> {
  const client = opts.client ?? (await RegistryClient.open(ref.domain, { ...opts, push: true }, `${ref.domain}/${ref.path}`));
  const repo = ref.path;
  const mountFrom = (opts.mountFrom ?? []).filter((r) => r !== repo);
  let closed = false;
  return {
    reference: `docker://${formatReference(ref)}`,
    capabilities: CAPABILITIES,
    async tryReuseBlob(blob) {
      if (await blobExists(client, repo, blob.digest)) return true;
      for (const from of mountFrom) if (await mountBlob(client, repo, blob.digest, from)) return true;
      return false;
    },
    putBlob: (stream, blob) => uploadBlob(client, repo, blob, stream, opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
    async putManifest(m, o = {}) {
      if (o.instance !== undefined) {
        await client.putManifest(repo, o.instance, m);
        return;
      }
      if (ref.digest && ref.digest !== m.digest) {
        throw new BerthError('DIGEST_MISMATCH', `${formatReference(ref)}: the manifest to write has digest ${m.digest}, not the one named`);
      }
      await client.putManifest(repo, ref.tag ?? ref.digest ?? 'latest', m);
    },
    // The manifest PUT made it visible; there is nothing to take back from a registry (unlinked blobs are its gc's).
    async commit() {},
    async close() {
      if (closed) return;
      closed = true;
      if (!opts.client) client.close();
    },
  };
}
