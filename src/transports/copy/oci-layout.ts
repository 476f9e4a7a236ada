/** `oci:DIR[:NAME]` and `oci-archive:FILE[:NAME]` as ImageDestinations: an OCI image layout, OCI manifests and indexes only. */
import { createWriteStream } from 'node:fs';
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ManifestBlob } from '../../image/image.js';
import { parseDigest } from '../../oci/digest.js';
import type { Descriptor, ImageIndex } from '../../oci/manifest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { makeDirs } from '../../util/dirs.js';
import { gatherChunks } from '../../util/gather.js';
import { REF_NAME } from '../oci-layout.js';
import { openTarWriter, type TarTargetOptions } from './_tar-writer.js';
import type { DestinationCapabilities, ImageDestination } from './types.js';

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

const CAPABILITIES: DestinationCapabilities = {
  manifestTypes: [MediaType.OciManifest],
  indexTypes: [MediaType.OciIndex],
  needsUncompressed: false,
  prefersCompressed: false,
  compressions: ['none', 'gzip', 'zstd'],
  canReuseBlobs: true,
  keepsDigests: true,
  parallelBlobs: 6,
  multipleImages: true,
  takesNewLayers: false,
};

function blobPath(digest: string): string {
  const d = parseDigest(digest);
  return `blobs/${d.algorithm}/${d.hex}`;
}

/** A top manifest given to the layout, with the names its index.json entries carry. */
interface Top {
  manifest: ManifestBlob;
  names: readonly string[];
}

/** The index.json entries for the top manifests: one per name, or one without a name. */
function entriesFor(tops: readonly Top[]): Descriptor[] {
  return tops.flatMap(({ manifest, names }) => {
    const desc: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    return names.length === 0 ? [desc] : names.map((n) => ({ ...desc, annotations: { [REF_NAME]: n } }));
  });
}

/**
 * An OCI layout directory, added to (as skopeo does): blobs present are kept, an index.json entry with the same
 * ref.name is replaced. Each blob goes to a temp name renamed into place when whole (and verified); index.json,
 * rewritten at commit, is what makes the images visible (`name`, or each image's own names when several are given).
 */
export async function ociDirDestination(dir: string, name?: string): Promise<ImageDestination> {
  await makeDirs(join(dir, 'blobs'));
  await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
  const tops: Top[] = [];
  const writeBlob = async (digest: string, body: Buffer | import('node:stream').Readable): Promise<void> => {
    const target = join(dir, blobPath(digest));
    await makeDirs(join(target, '..'));
    const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      if (Buffer.isBuffer(body)) await writeFile(tmp, body);
      else await pipeline(body, gatherChunks(), createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  };
  return {
    reference: `oci:${dir}${name ? `:${name}` : ''}`,
    capabilities: CAPABILITIES,
    // A layout's blobs are named by digest: one there is the one asked for.
    tryReuseBlob: (blob) =>
      access(join(dir, blobPath(blob.digest))).then(
        () => true,
        () => false,
      ),
    putBlob: (stream, blob) => writeBlob(blob.digest, stream),
    async putManifest(m, o = {}) {
      await writeBlob(m.digest, m.bytes);
      if (o.instance === undefined) tops.push({ manifest: m, names: o.names ?? (name ? [name] : []) });
    },
    async commit() {
      if (tops.length === 0) throw new Error('commit before the manifest was given');
      let existing: Descriptor[] = [];
      try {
        existing = (JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex).manifests ?? [];
      } catch {
        existing = [];
      }
      const added = entriesFor(tops);
      const addedNames = new Set(added.map((d) => d.annotations?.[REF_NAME]).filter(Boolean));
      const kept = existing.filter((d) => !addedNames.has(d.annotations?.[REF_NAME]));
      await writeFileAtomic(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [...kept, ...added] }));
    },
    async close() {},
  };
}

/**
 * A tar of an OCI layout, written entry by entry (one blob at a time) and put in place at commit; `path` a file, or
 * a stream (`save` to stdout).
 */
export async function ociArchiveDestination(path: string | Writable, name?: string, opts: TarTargetOptions = {}): Promise<ImageDestination> {
  const tar = await openTarWriter(path, opts);
  const written = new Set<string>();
  const tops: Top[] = [];
  let committed = false;
  await tar.add('oci-layout', Buffer.from(OCI_LAYOUT), OCI_LAYOUT.length);
  const put = async (digest: string, body: Buffer | import('node:stream').Readable, size: number): Promise<void> => {
    written.add(digest);
    await tar.add(blobPath(digest), body, size);
  };
  return {
    reference: `oci-archive:${typeof path === 'string' ? path : 'stdout'}${name ? `:${name}` : ''}`,
    capabilities: { ...CAPABILITIES, parallelBlobs: 1 },
    tryReuseBlob: async (blob) => written.has(blob.digest),
    putBlob: (stream, blob) => put(blob.digest, stream, blob.size),
    async putManifest(m, o = {}) {
      if (!written.has(m.digest)) await put(m.digest, m.bytes, m.bytes.length);
      if (o.instance === undefined) tops.push({ manifest: m, names: o.names ?? (name ? [name] : []) });
    },
    async commit() {
      if (tops.length === 0) throw new Error('commit before the manifest was given');
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: entriesFor(tops) }));
      await tar.add('index.json', index, index.length);
      await tar.finish();
      committed = true;
    },
    async close() {
      if (!committed) await tar.abort();
    },
  };
}
