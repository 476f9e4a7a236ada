import type { Writable } from 'node:stream';
import { makeDirs } from '../../util/dirs.js';
import { writeUserFileStream } from '../../util/user-file.js';
import { dirname } from 'node:path';
import { bundleAsOci, mapChildren } from '../../image/bundle.js';
import type { Image, ImageIndexBundle, NamedImage } from '../../image/image.js';
import { checkCompressionLevel, recompressImage } from '../../image/recompress.js';
import type { Platform } from '../../oci/platform.js';
import { parseNormalizedNamed, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import { findImage, storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { readDockerArchive, writeDockerArchive } from '../../transports/docker-archive.js';
import { formatOf, readRegistryImage, readRegistryIndex, writeRegistryImage, writeRegistryIndex, type RegistryOptions } from '../../transports/docker/index.js';
import { readDirImage, readDirIndex, writeDirImage, writeDirIndex } from '../../transports/dir.js';
import { DirectoryFiles, openTarArchive } from '../../transports/files.js';
import { readOciLayout, readOciLayoutIndex, writeOciArchive, writeOciDir } from '../../transports/oci-layout.js';
import { readStoreImage, writeStoreImage } from '../../transports/store.js';
import { BerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import type { ImageRecord } from '../../store/images.js';

/**
 * skopeo copy: one image from any transport to any other, streamed (layers go from the source's
 * reader straight into the destination's writer).
 *
 *   docker://REF                 a registry
 *   oci:DIR[:REF]                an OCI layout directory (REF: the org.opencontainers.image.ref.name)
 *   oci-archive:FILE[:REF]       a tar of an OCI layout
 *   docker-archive:FILE[:REF]    docker save's format (REF: a RepoTag in it, or the name to write)
 *   dir:DIR                      skopeo's directory of loose files (manifest.json and blobs by digest)
 *   berth:NAME                   berth's own store (containers-storage:NAME is taken to mean it too)
 */
export type TransportRef =
  | { transport: 'docker'; ref: ImageReference }
  | { transport: 'oci' | 'oci-archive' | 'docker-archive'; path: string; name?: string }
  | { transport: 'dir'; path: string }
  | { transport: 'berth'; name: string };

export function parseTransportRef(input: string): TransportRef {
  const colon = input.indexOf(':');
  const transport = colon === -1 ? '' : input.slice(0, colon);
  const rest = input.slice(colon + 1);
  switch (transport) {
    case 'docker': {
      if (!rest.startsWith('//')) throw new BerthError('USAGE', `${input}: a docker transport reference is docker://NAME`);
      return { transport: 'docker', ref: parseNormalizedNamed(rest.slice(2)) };
    }
    case 'oci':
    case 'oci-archive':
    case 'docker-archive': {
      // PATH[:REF]: the path is up to the first colon (skopeo's rule), the rest names the image.
      const sep = rest.indexOf(':');
      const path = sep === -1 ? rest : rest.slice(0, sep);
      const name = sep === -1 ? undefined : rest.slice(sep + 1);
      if (path === '') throw new BerthError('USAGE', `${input}: a path is needed after ${transport}:`);
      return { transport, path, ...(name ? { name } : {}) };
    }
    case 'dir':
      if (rest === '') throw new BerthError('USAGE', `${input}: a path is needed after dir:`);
      return { transport: 'dir', path: rest };
    case 'berth':
    case 'containers-storage':
      if (rest === '') throw new BerthError('USAGE', `${input}: an image name is needed after ${transport}:`);
      return { transport: 'berth', name: rest };
    default:
      throw new BerthError('USAGE', `${input}: unknown transport "${transport}": use docker://, oci:, oci-archive:, docker-archive:, dir: or berth:`);
  }
}

export interface CopyOptions {
  source?: RegistryOptions;
  dest?: RegistryOptions;
  /** Fail rather than write a manifest with other bytes than the source's (a format conversion). */
  preserveDigests?: boolean;
  /**
   * skopeo's --multi-arch: 'system' (default) copies the one image for `platform` out of an index; 'all' (--all)
   * the index with every child; 'index-only' the index alone (its children must be at the destination already).
   */
  multiArch?: MultiArch;
  /** The platform to take from an index (skopeo's --override-os/--override-arch/--override-variant); default the host's. */
  platform?: Platform;
  /** Layers recompressed to this (skopeo's --dest-compress-format/--dest-compress-level); zstd forces OCI manifests. */
  compression?: { format: 'gzip' | 'zstd'; level?: number };
}

export type MultiArch = 'system' | 'all' | 'index-only';

export function parseMultiArch(v: string): MultiArch {
  if (v === 'system' || v === 'all' || v === 'index-only') return v;
  throw new BerthError('USAGE', `--multi-arch ${JSON.stringify(v)}: use system, all or index-only`);
}

function pick(images: NamedImage[], name: string | undefined, where: string): NamedImage {
  if (name === undefined) {
    if (images.length !== 1) throw new BerthError('USAGE', `${where} holds ${images.length} images: name one (${where}:NAME)`);
    return images[0]!;
  }
  const found = images.find((i) => i.names.includes(name) || i.names.includes(storedName(name)));
  if (!found) throw new BerthError('IMAGE_UNKNOWN', `${where}: no image named ${name}`);
  return found;
}

async function readSource(store: Store, src: TransportRef, opts: CopyOptions): Promise<NamedImage> {
  switch (src.transport) {
    case 'docker':
      return { image: await readRegistryImage(src.ref, { ...(opts.source ?? {}), ...(opts.platform ? { platform: opts.platform } : {}) }), names: [] };
    case 'oci':
    case 'oci-archive': {
      const files = src.transport === 'oci' ? new DirectoryFiles(src.path) : await openTarArchive(src.path, () => store.tmp.path('copy'));
      // The layout reader already keeps only the image whose ref.name is the one asked for.
      const read = await readOciLayout(files, { ...(src.name ? { only: src.name } : {}), ...(opts.platform ? { platform: opts.platform } : {}) });
      return pick(read, undefined, src.name ? `${src.path}:${src.name}` : src.path);
    }
    case 'dir':
      return readDirImage(src.path, opts.platform ? { platform: opts.platform } : {});
    case 'docker-archive':
      return pick(await readDockerArchive(await openTarArchive(src.path, () => store.tmp.path('copy'))), src.name, src.path);
    case 'berth': {
      const record = findImage(await store.images(), src.name);
      if (!record) throw new BerthError('IMAGE_UNKNOWN', `${src.name}: image not known`);
      return { image: await readStoreImage(store, record), names: [] };
    }
  }
}

/**
 * An image read from an archive, layout or skopeo directory (`docker-archive:FILE`,
 * `oci-archive:FILE`, `oci:DIR`, `dir:DIR`, each with an optional `:REF`) and stored with the names
 * it carries: what run and create do with such a reference, as podman pulls it into its store first.
 */
export async function storeFromTransport(store: Store, input: string, onProgress?: ProgressSink): Promise<ImageRecord> {
  const src = parseTransportRef(input);
  if (src.transport === 'docker' || src.transport === 'berth') throw new BerthError('USAGE', `${input}: not an archive, layout or directory`);
  return writeStoreImage(store, await readSource(store, src, {}), onProgress);
}

/** An archive file (its directory made): written beside and renamed over when whole, or in place when it is a device or FIFO. */
async function writeFileTransport(path: string, write: (out: Writable) => Promise<void>): Promise<void> {
  await makeDirs(dirname(path));
  await writeUserFileStream(path, write);
}

/** The source read for a copy of every platform: an index with its children, or (no index there) one image. */
async function readSourceAll(store: Store, src: TransportRef, opts: CopyOptions): Promise<ImageIndexBundle | Image> {
  switch (src.transport) {
    case 'docker':
      return readRegistryIndex(src.ref, opts.source ?? {});
    case 'oci':
    case 'oci-archive': {
      const files = src.transport === 'oci' ? new DirectoryFiles(src.path) : await openTarArchive(src.path, () => store.tmp.path('copy'));
      return readOciLayoutIndex(files, src.name ? { only: src.name } : {});
    }
    case 'dir':
      return readDirIndex(src.path);
    default:
      return (await readSource(store, src, opts)).image;
  }
}

function isBundle(x: ImageIndexBundle | Image): x is ImageIndexBundle {
  return 'children' in x;
}

/** The image with its layers in the wanted compression (the same image when none is asked or none differs). */
async function recompressed(store: Store, image: Image, opts: CopyOptions, dst?: TransportRef): Promise<Image> {
  if (!opts.compression) {
    // A registry gets layers compressed, as skopeo and podman send them: those stored
    // uncompressed (built or committed ones) are gzipped, the others go as they are.
    if (dst?.transport !== 'docker' || opts.preserveDigests) return image;
    return recompressImage(image, { compression: 'gzip', onlyUncompressed: true, tmpDir: await store.tmp.make('recompress') });
  }
  return recompressImage(image, { compression: opts.compression.format, ...(opts.compression.level !== undefined ? { level: opts.compression.level } : {}), tmpDir: await store.tmp.make('recompress') });
}

/** The manifest (or, with --all, index) digest written at the destination. */
export async function copyImage(store: Store, from: string, to: string, opts: CopyOptions = {}): Promise<string> {
  const src = parseTransportRef(from);
  const dst = parseTransportRef(to);
  const multiArch = opts.multiArch ?? 'system';
  if (opts.compression && dst.transport === 'docker-archive') {
    throw new BerthError('USAGE', `--dest-compress-format: ${to} holds uncompressed layers (docker save's format)`);
  }
  if (opts.compression) checkCompressionLevel(opts.compression.format, opts.compression.level);
  if (multiArch !== 'system') {
    if (dst.transport === 'docker-archive' || dst.transport === 'berth') {
      throw new BerthError('USAGE', `--multi-arch ${multiArch}: ${to}: the ${dst.transport} transport cannot hold an image index; copy one platform (without --all)`);
    }
    const read = await readSourceAll(store, src, opts);
    if (isBundle(read)) return copyIndex(store, read, dst, to, multiArch, opts);
    return copyOne(store, read, dst, to, opts);
  }
  const { image } = await readSource(store, src, opts);
  return copyOne(store, image, dst, to, opts);
}

async function copyIndex(store: Store, source: ImageIndexBundle, dst: TransportRef, to: string, multiArch: MultiArch, opts: CopyOptions): Promise<string> {
  let bundle: ImageIndexBundle = multiArch === 'index-only' ? { index: source.index, children: [] } : source;
  if (opts.compression) bundle = await mapChildren(bundle, (c) => recompressed(store, c, opts));
  if (dst.transport === 'oci' || dst.transport === 'oci-archive') bundle = await bundleAsOci(bundle);
  if (opts.preserveDigests && bundle.index.digest !== source.index.digest) {
    throw new BerthError('USAGE', `--preserve-digests: the index would be rewritten for ${to} (${bundle.index.digest}, not ${source.index.digest}): its children or format change`);
  }
  const named = { bundle, names: 'name' in dst && dst.name ? [dst.name] : [] };
  switch (dst.transport) {
    case 'docker': {
      const ref = dst.ref.digest === undefined ? withDefaultTag(dst.ref) : dst.ref;
      return (await writeRegistryIndex(ref, bundle, { ...(opts.dest ?? {}) })).digest;
    }
    case 'oci':
      await writeOciDir([named], dst.path);
      break;
    case 'oci-archive':
      await writeFileTransport(dst.path, (out) => writeOciArchive([named], out));
      break;
    case 'dir':
      await writeDirIndex(bundle, dst.path);
      break;
    default:
      throw new BerthError('INTERNAL', `no index writer for ${dst.transport}`);
  }
  return bundle.index.digest;
}

async function copyOne(store: Store, source: Image, dst: TransportRef, to: string, opts: CopyOptions): Promise<string> {
  const image = await recompressed(store, source, opts, dst);
  const isOci = image.manifest.mediaType === 'application/vnd.oci.image.manifest.v1+json';
  if (opts.preserveDigests && image.manifest.digest !== source.manifest.digest) {
    throw new BerthError('USAGE', `--preserve-digests: recompressing the layers changes the manifest (${image.manifest.digest}, not ${source.manifest.digest})`);
  }
  if (opts.preserveDigests && !isOci && (dst.transport === 'oci' || dst.transport === 'oci-archive')) {
    throw new BerthError('USAGE', `--preserve-digests: ${to} stores OCI manifests only, and the source's is ${image.manifest.mediaType} (its digest would change)`);
  }
  switch (dst.transport) {
    case 'docker': {
      const ref = dst.ref.digest === undefined ? withDefaultTag(dst.ref) : dst.ref;
      const written = await writeRegistryImage(ref, image, { ...(opts.dest ?? {}), ...(image !== source ? { format: formatOf(image.manifest.mediaType) } : {}) });
      if (opts.preserveDigests && written.digest !== image.manifest.digest) {
        throw new BerthError('USAGE', `--preserve-digests: the registry took a converted manifest (${written.digest}, not ${image.manifest.digest})`);
      }
      return written.digest;
    }
    case 'oci':
      await writeOciDir([{ image, names: dst.name ? [dst.name] : [] }], dst.path);
      break;
    case 'oci-archive':
      await writeFileTransport(dst.path, (out) => writeOciArchive([{ image, names: dst.name ? [dst.name] : [] }], out));
      break;
    case 'docker-archive':
      await writeFileTransport(dst.path, (out) => writeDockerArchive([{ image, names: dst.name ? [storedName(dst.name)] : [] }], out));
      break;
    case 'dir':
      await writeDirImage(image, dst.path);
      break;
    case 'berth':
      await writeStoreImage(store, { image, names: [storedName(dst.name)] });
      break;
  }
  return image.manifest.digest;
}
