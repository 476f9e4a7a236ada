import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { makeDirs } from '../util/dirs.js';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import tarStream from 'tar-stream';
import { digestOf, parseDigest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { parseManifest, toOciManifest, type Descriptor, type ImageIndex, type ImageManifest } from '../oci/manifest.js';
import { hostPlatform, selectFromIndex, type Platform } from '../oci/platform.js';
import { formatReference, parseNormalizedNamed, withDefaultTag } from '../oci/reference.js';
import type { Image, ImageIndexBundle, ManifestBlob, NamedImage } from '../image/image.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BerthError } from '../util/errors.js';
import { addStream } from './docker-archive.js';
import { imageOfBlobFiles, type ArchiveFiles, type ReadLimit } from './files.js';
import { MaxBytes, tooLargeError } from '../util/read-limits.js';
import { gatherChunks } from '../util/gather.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

export async function isOciLayout(files: ArchiveFiles): Promise<boolean> {
  return (await files.size('oci-layout')) !== undefined && (await files.size('index.json')) !== undefined;
}

function blobPath(digest: string): string {
  const d = parseDigest(digest);
  return `blobs/${d.algorithm}/${d.hex}`;
}

/** A manifest or index of the layout (`limit` says otherwise for a config), read whole and checked against its digest. */
async function readBlobVerified(files: ArchiveFiles, desc: { digest: string; size?: number }, limit?: ReadLimit): Promise<Buffer> {
  const { max, what } = limit ?? { max: MaxBytes.manifest, what: `${files.description}: manifest ${desc.digest}` };
  if (desc.size !== undefined && desc.size > max) throw tooLargeError(what, desc.size, max);
  const bytes = await files.readFile(blobPath(desc.digest), { max, what });
  if (digestOf(bytes, parseDigest(desc.digest).algorithm) !== desc.digest) {
    throw new BerthError('DIGEST_MISMATCH', `${files.description}: blob ${desc.digest} does not match its digest`);
  }
  return bytes;
}

/** The name an index entry carries: a full reference as podman writes, or a bare tag as skopeo may. */
function refName(desc: Descriptor): string | undefined {
  const name = desc.annotations?.[REF_NAME];
  // The OCI convention is a bare tag ("latest", "3.18"); podman writes a full name. Only a
  // value with a repository part can name an image.
  if (!name || !/[/:]/.test(name)) return undefined;
  try {
    return formatReference(withDefaultTag(parseNormalizedNamed(name)));
  } catch {
    return undefined; // a bare tag ("latest") names no repository: the image loads untagged
  }
}

async function layoutEntriesOf(files: ArchiveFiles, only: string | undefined): Promise<Descriptor[]> {
  const indexBytes = await files.readFile('index.json', { max: MaxBytes.manifest, what: `${files.description}: index.json` });
  const top = parseManifest(indexBytes);
  if (top.kind !== 'index') throw new BerthError('ARCHIVE_INVALID', `${files.description}: index.json is not an image index`);
  let entries = top.index.manifests;
  if (only !== undefined) entries = entries.filter((d) => d.annotations?.[REF_NAME] === only);
  if (entries.length === 0) {
    throw new BerthError('ARCHIVE_INVALID', `${files.description}: ${only === undefined ? 'index.json lists no images' : `no image named "${only}"`}`);
  }
  return entries;
}

/**
 * Reads the images of an OCI image layout (a directory or an oci-archive). Each entry of
 * index.json is one image; a nested index is resolved for `platform` (default: this host's).
 * `only` picks the entries whose ref.name annotation equals it.
 */
export async function readOciLayout(files: ArchiveFiles, opts: { platform?: Platform; only?: string } = {}): Promise<NamedImage[]> {
  const out: NamedImage[] = [];
  for (const entry of await layoutEntriesOf(files, opts.only)) {
    const bytes = await readBlobVerified(files, entry);
    const parsed = parseManifest(bytes, entry.mediaType);
    let image: Image;
    if (parsed.kind === 'index') {
      const index: ManifestBlob = { bytes, mediaType: parsed.mediaType, digest: entry.digest };
      image = { ...(await readChild(files, selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform()))), index };
    } else {
      image = await imageOf(files, { bytes, mediaType: parsed.mediaType, digest: entry.digest }, parsed.manifest);
    }
    const name = refName(entry);
    out.push({ image, names: name ? [name] : [] });
  }
  return out;
}

/**
 * The one image (`only` names it, else index.json must list one) for a copy of every platform: an index entry
 * comes back with each child as an Image, a plain manifest as an Image.
 */
export async function readOciLayoutIndex(files: ArchiveFiles, opts: { only?: string } = {}): Promise<ImageIndexBundle | Image> {
  const entries = await layoutEntriesOf(files, opts.only);
  if (entries.length !== 1) throw new BerthError('USAGE', `${files.description} holds ${entries.length} images: name one (${files.description}:NAME)`);
  const entry = entries[0]!;
  const bytes = await readBlobVerified(files, entry);
  const parsed = parseManifest(bytes, entry.mediaType);
  if (parsed.kind !== 'index') return imageOf(files, { bytes, mediaType: parsed.mediaType, digest: entry.digest }, parsed.manifest);
  const children: Image[] = [];
  for (const d of parsed.index.manifests) children.push(await readChild(files, d));
  return { index: { bytes, mediaType: parsed.mediaType, digest: entry.digest }, children };
}

async function readChild(files: ArchiveFiles, desc: Descriptor): Promise<Image> {
  const bytes = await readBlobVerified(files, desc);
  const parsed = parseManifest(bytes, desc.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `${files.description}: nested indexes are not supported`);
  return imageOf(files, { bytes, mediaType: parsed.mediaType, digest: desc.digest }, parsed.manifest);
}

function imageOf(files: ArchiveFiles, manifestBlob: ManifestBlob, manifest: ImageManifest): Promise<Image> {
  return imageOfBlobFiles(
    { where: files.description, read: (digest, limit) => readBlobVerified(files, { digest }, limit), open: (digest) => files.open(blobPath(digest)) },
    manifestBlob,
    manifest,
  );
}

/** The image as OCI: a Docker schema2 manifest is converted (which gives it a new digest). */
function asOci(image: Image): ManifestBlob {
  if (image.manifest.mediaType === MediaType.OciManifest) return image.manifest;
  const parsed = parseManifest(image.manifest.bytes, image.manifest.mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('INTERNAL', 'expected an image manifest');
  const bytes = Buffer.from(JSON.stringify(toOciManifest(parsed.manifest)));
  return { bytes, mediaType: MediaType.OciManifest, digest: digestOf(bytes) };
}

interface LayoutEntry {
  path: string;
  size: number;
  /** A manifest or index: written only once the blobs it names are all there (in order). */
  manifest?: boolean;
  body: () => Promise<Readable | Buffer>;
}

/** An index to write into a layout: it and its children must be OCI already (see bundleAsOci). */
export interface NamedIndex {
  bundle: ImageIndexBundle;
  names: string[];
}

function isNamedIndex(x: NamedImage | NamedIndex): x is NamedIndex {
  return 'bundle' in x;
}

function layoutEntries(items: (NamedImage | NamedIndex)[]): { entries: LayoutEntry[]; index: Buffer } {
  const entries = new Map<string, LayoutEntry>();
  const descriptors: Descriptor[] = [];
  const addImage = (image: Image): ManifestBlob => {
    const manifest = asOci(image);
    for (const layer of image.layers) {
      entries.set(blobPath(layer.digest), { path: blobPath(layer.digest), size: layer.size, body: () => layer.blob() });
    }
    entries.set(blobPath(image.config.digest), { path: blobPath(image.config.digest), size: image.config.bytes.length, body: async () => image.config.bytes });
    entries.set(blobPath(manifest.digest), { path: blobPath(manifest.digest), size: manifest.bytes.length, manifest: true, body: async () => manifest.bytes });
    return manifest;
  };
  for (const item of items) {
    let desc: Descriptor;
    if (isNamedIndex(item)) {
      const { index, children } = item.bundle;
      if (index.mediaType !== MediaType.OciIndex) throw new BerthError('INTERNAL', 'an OCI layout takes OCI indexes only');
      for (const child of children) {
        if (asOci(child).digest !== child.manifest.digest) throw new BerthError('INTERNAL', 'an OCI layout takes OCI manifests only');
        addImage(child);
      }
      entries.set(blobPath(index.digest), { path: blobPath(index.digest), size: index.bytes.length, manifest: true, body: async () => index.bytes });
      desc = { mediaType: MediaType.OciIndex, digest: index.digest, size: index.bytes.length };
    } else {
      const manifest = addImage(item.image);
      desc = { mediaType: MediaType.OciManifest, digest: manifest.digest, size: manifest.bytes.length };
    }
    if (item.names.length === 0) descriptors.push(desc);
    for (const n of item.names) descriptors.push({ ...desc, annotations: { [REF_NAME]: n } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: descriptors }));
  return { entries: [...entries.values()], index };
}

/** Writes an oci-archive (a tar of an OCI layout), streaming blobs in. */
export async function writeOciArchive(images: (NamedImage | NamedIndex)[], out: Writable): Promise<void> {
  const pack = tarStream.pack();
  const done = pipeline(pack, out);
  const mtime = new Date(0);
  try {
    const { entries, index } = layoutEntries(images);
    pack.entry({ name: 'oci-layout', mode: 0o644, mtime }, OCI_LAYOUT);
    for (const e of entries) {
      const body = await e.body();
      if (Buffer.isBuffer(body)) pack.entry({ name: e.path, size: e.size, mode: 0o644, mtime }, body);
      else await addStream(pack, { name: e.path, size: e.size, mode: 0o644, mtime }, body as Readable);
    }
    pack.entry({ name: 'index.json', mode: 0o644, mtime }, index);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await done;
}

/** Blobs written into a layout directory at once: a registry source streams each over its own connection. */
const LAYOUT_BLOB_CONCURRENCY = 6;

/**
 * Writes images into an OCI layout directory, adding to what is there (as skopeo does): blobs
 * already present are kept, index.json entries with the same ref.name are replaced. Blobs are
 * written several at once (as skopeo copies layers in parallel), each to a temp name renamed into
 * place when whole; the manifest (last in the entries) is written after every blob it names.
 */
export async function writeOciDir(images: (NamedImage | NamedIndex)[], dir: string): Promise<void> {
  const { entries, index } = layoutEntries(images);
  await makeDirs(join(dir, 'blobs'));
  await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
  const writeEntry = async (e: LayoutEntry): Promise<void> => {
    const target = join(dir, e.path);
    // Present already: a layout's blobs are named by digest (checked by access, never read whole).
    const exists = await access(target).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await makeDirs(join(target, '..'));
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      const body = await e.body();
      if (Buffer.isBuffer(body)) await writeFile(tmp, body);
      else await pipeline(body as Readable, gatherChunks(), createWriteStream(tmp));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  };
  const limit = pLimit(LAYOUT_BLOB_CONCURRENCY);
  const blobs = entries.filter((e) => !e.manifest);
  await Promise.all(blobs.map((e) => limit(() => writeEntry(e))));
  for (const e of entries.filter((e) => e.manifest)) await writeEntry(e);
  let existing: Descriptor[] = [];
  try {
    existing = (JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex).manifests ?? [];
  } catch {
    existing = [];
  }
  const added = (JSON.parse(index.toString('utf8')) as ImageIndex).manifests;
  const addedNames = new Set(added.map((d) => d.annotations?.[REF_NAME]).filter(Boolean));
  const kept = existing.filter((d) => !addedNames.has(d.annotations?.[REF_NAME]));
  await writeFileAtomic(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [...kept, ...added] }));
}
