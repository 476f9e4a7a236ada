import { digestOf, parseDigest } from '../oci/digest.js';
import { parseManifest, type Descriptor, type ImageIndex, type ImageManifest } from '../oci/manifest.js';
import { hostPlatform, selectFromIndex, type Platform } from '../oci/platform.js';
import { formatReference, parseNormalizedNamed, withDefaultTag } from '../oci/reference.js';
import type { Image, ImageIndexBundle, ManifestBlob, NamedImage } from '../image/image.js';
import { BerthError } from '../util/errors.js';
import { imageOfBlobFiles, type ArchiveFiles, type ReadLimit } from './files.js';
import { MaxBytes, tooLargeError } from '../util/read-limits.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

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
