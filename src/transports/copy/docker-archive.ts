/**
 * `docker-archive:FILE[:NAME]` (docker save's format) as an ImageDestination: uncompressed layers named by diff ID,
 * the config by its digest, and manifest.json (no registry manifest: the archive's digest is not the source's).
 */
import type { Writable } from 'node:stream';
import { BerthError } from '../../util/errors.js';
import { parseImageConfig, parseManifest } from '../../oci/manifest.js';
import { openTarWriter, type TarTargetOptions } from './_tar-writer.js';
import type { DestinationCapabilities, ImageDestination } from './types.js';

const CAPABILITIES: DestinationCapabilities = {
  manifestTypes: 'any',
  indexTypes: [],
  needsUncompressed: true,
  prefersCompressed: false,
  compressions: ['none'],
  canReuseBlobs: true,
  keepsDigests: false,
  parallelBlobs: 1,
  multipleImages: true,
  takesNewLayers: false,
};

function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

interface Entry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/**
 * `names` go into RepoTags (already in the store's form), unless an image is given its own (several images in one
 * archive, `save a b`). `path` is a file (written beside and renamed at commit) or a stream (`save` to stdout).
 */
export async function dockerArchiveDestination(path: string | Writable, names: readonly string[], opts: TarTargetOptions = {}): Promise<ImageDestination> {
  const tar = await openTarWriter(path, opts);
  const written = new Set<string>();
  const configs = new Map<string, Buffer>();
  const entries: Entry[] = [];
  let committed = false;
  const reference = `docker-archive:${typeof path === 'string' ? path : 'stdout'}`;
  return {
    reference,
    capabilities: CAPABILITIES,
    tryReuseBlob: async (blob) => written.has(blob.digest) && (blob.kind !== 'config' || configs.has(blob.digest)),
    async putBlob(stream, blob) {
      written.add(blob.digest);
      if (blob.kind === 'config') {
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        const bytes = Buffer.concat(chunks);
        configs.set(blob.digest, bytes);
        await tar.add(`${hex(blob.digest)}.json`, bytes, bytes.length, 0o444);
      } else {
        await tar.add(`${hex(blob.digest)}.tar`, stream, blob.size, 0o444);
      }
    },
    async putManifest(m, o = {}) {
      if (o.instance !== undefined) throw new BerthError('USAGE', `${reference}: docker save's format holds no image index`);
      const parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.kind !== 'manifest') throw new BerthError('USAGE', `${reference}: docker save's format holds no image index`);
      const config = configs.get(parsed.manifest.config.digest);
      if (!config) throw new BerthError('INTERNAL', `config ${parsed.manifest.config.digest} not written before its manifest`);
      const layers = parseImageConfig(config).rootfs.diff_ids.map((d) => `${hex(d)}.tar`);
      entries.push({ Config: `${hex(parsed.manifest.config.digest)}.json`, RepoTags: [...(o.names ?? names)], Layers: layers });
    },
    async commit() {
      const manifest = Buffer.from(JSON.stringify(entries));
      await tar.add('manifest.json', manifest, manifest.length, 0o444);
      await tar.finish();
      committed = true;
    },
    async close() {
      if (!committed) await tar.abort();
    },
  };
}
