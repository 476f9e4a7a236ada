/** `dir:DIR` (skopeo's directory of loose files) as an ImageDestination: any manifest type, an index with its children. */
import { join } from 'node:path';
import type { ManifestBlob } from '../../image/image.js';
import { MediaType } from '../../oci/mediatypes.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { blobName, prepareDir } from '../dir.js';
import type { DestinationCapabilities, ImageDestination } from './types.js';

const CAPABILITIES: DestinationCapabilities = {
  manifestTypes: 'any',
  indexTypes: [MediaType.OciIndex, MediaType.DockerManifestList],
  needsUncompressed: false,
  prefersCompressed: false,
  compressions: ['none', 'gzip', 'zstd'],
  canReuseBlobs: true,
  keepsDigests: true,
  parallelBlobs: 6,
  multipleImages: false,
  takesNewLayers: false,
};

/**
 * The directory is emptied first (it must be empty or hold a previous dir: image, as skopeo asks); blobs and child
 * manifests go in as they come, and manifest.json, written at commit, is what makes it an image.
 */
export async function dirDestination(dir: string): Promise<ImageDestination> {
  const put = await prepareDir(dir);
  const written = new Set<string>();
  let top: ManifestBlob | undefined;
  return {
    reference: `dir:${dir}`,
    capabilities: CAPABILITIES,
    tryReuseBlob: async (blob) => written.has(blob.digest),
    async putBlob(stream, blob) {
      await put(blobName(blob.digest), stream);
      written.add(blob.digest);
    },
    async putManifest(m, o = {}) {
      if (o.instance !== undefined) await put(`${blobName(o.instance)}.manifest.json`, m.bytes);
      else top = m;
    },
    async commit() {
      if (!top) throw new Error('commit before the manifest was given');
      await writeFileAtomic(join(dir, 'manifest.json'), top.bytes);
    },
    async close() {},
  };
}
