import { pathAdmission } from './admission.js';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { autoDecompress } from '../../archive/compression.js';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { hostPlatform, type Platform } from '../../oci/platform.js';
import { applyChanges, type ContainerConfig } from '../../image/changes.js';
import type { Image, NamedImage } from '../../image/image.js';
import type { ImageRecord } from '../../store/images.js';
import { requireImage, storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { isDockerArchive, readDockerArchive } from '../../transports/docker-archive.js';
import { DirectoryFiles, openTarArchive, type ArchiveFiles } from '../../transports/files.js';
import { isOciLayout, readOciLayout } from '../../transports/oci-layout.js';
import {
  copyImage,
  copyImages,
  dockerArchiveDestination,
  imageSource,
  ociArchiveDestination,
  ociDirDestination,
  storeDestination,
  type ImageDestination,
  type ImageSource,
  type CopyImageOptions,
} from '../../transports/copy/index.js';
import { readStoreImage, writeStoreImage } from '../../transports/store.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { goTimestamp } from '../../oci/time.js';
import { imageEvent } from '../system/events.js';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir';

/** One image of an archive into the store, through the copy engine (a failed one leaves the store as it was). */
async function loadOne(store: Store, named: NamedImage, onProgress?: ProgressSink, admit?: CopyImageOptions['admit']): Promise<ImageRecord> {
  const source = imageSource('load', named.image);
  const dest = storeDestination(store, named.names, onProgress ? { onProgress } : {});
  try {
    await copyImage(source, dest, { tmpDir: () => store.tmp.make('load'), ...(admit ? { admit } : {}) });
    return dest.record!;
  } finally {
    await dest.close();
    await source.close();
  }
}

/** `load`: every image of a docker-archive, oci-archive (gzip or not, file or stdin) or OCI layout directory. */
export async function loadImages(
  store: Store,
  input: string | Readable,
  opts: { platform?: Platform; onProgress?: ProgressSink } = {},
): Promise<ImageRecord[]> {
  const isDir = typeof input === 'string' && (await stat(input).catch(() => undefined))?.isDirectory();
  const source = typeof input === 'string' ? input : 'stdin';
  // podman's words for input that is no image at all, which scripts match on.
  const unknown = (why: string) => new BerthError('ARCHIVE_INVALID', `payload does not match any of the supported image formats: ${source}: ${why}`);
  let files: ArchiveFiles;
  try {
    files = isDir ? new DirectoryFiles(input as string) : await openTarArchive(input, () => store.tmp.path('load'));
  } catch (e) {
    // The tar reader says why (a checksum, a truncation): kept, with the spool path of stdin named as such.
    if (isBerthError(e, 'ARCHIVE_INVALID')) throw unknown(e.message.replace(/^.* is not a valid tar archive: /, 'not a valid tar archive: '));
    throw e;
  }
  let images: NamedImage[];
  if (await isDockerArchive(files)) images = await readDockerArchive(files);
  else if (await isOciLayout(files)) images = await readOciLayout(files, opts.platform ? { platform: opts.platform } : {});
  else throw unknown('neither a docker-archive nor an oci-archive (no manifest.json, no index.json)');
  // The trust policy's word on what the archive is, by its path (stdin: by the transport alone).
  const transport = (await isDockerArchive(files)) ? 'docker-archive' : isDir ? 'oci' : 'oci-archive';
  const admit = pathAdmission(transport, typeof input === 'string' ? input : '', {});
  const records: ImageRecord[] = [];
  for (const named of images) records.push(await loadOne(store, named, opts.onProgress, admit));
  for (const r of records) await imageEvent(store, 'load', r.id, r.names[0] ?? (typeof input === 'string' ? input : undefined));
  return records;
}

/** The destination `save` writes: a file or directory (`-o`), or a stream (stdout) for the archives. */
async function saveDestination(format: SaveFormat, out: { path?: string; stream?: Writable }): Promise<ImageDestination> {
  if (format === 'oci-dir') {
    if (!out.path) throw new BerthError('USAGE', 'saving an oci-dir needs --output DIR');
    return ociDirDestination(out.path);
  }
  // A file is written beside and renamed at commit, so a failed save leaves no half archive behind; a device or
  // FIFO (-o /dev/null, a pipe) is written in place; stdout is streamed to. Missing directories are not made.
  const target = out.path ?? out.stream ?? process.stdout;
  return format === 'oci-archive'
    ? ociArchiveDestination(target, undefined, { makeParents: false })
    : dockerArchiveDestination(target, [], { makeParents: false });
}

/**
 * `save`: images (by name or ID) into one archive or layout, through the copy engine: each stored image is a
 * source, and the archive or layout one destination that takes them all before its one commit.
 */
export async function saveImages(store: Store, inputs: string[], format: SaveFormat, out: { path?: string; stream?: Writable }): Promise<void> {
  const records = await store.images();
  const images: { source: ImageSource; names: string[] }[] = [];
  const ids: string[] = [];
  try {
    for (const input of inputs) {
      const record = requireImage(records, input);
      ids.push(record.id);
      const byName = record.names.find((n) => n === storedName(input)) ?? record.names.find((n) => namesMatch(n, input));
      // Saved by its ID, an image goes without names (no RepoTags), as podman saves it: loaded back it is <none>.
      const names = byName ? [byName] : isIdOf(record, input) ? [] : [...record.names];
      images.push({ source: imageSource(`berth:${input}`, await readStoreImage(store, record)), names });
    }
    const dest = await saveDestination(format, out);
    try {
      await copyImages(images, dest, { tmpDir: () => store.tmp.make('save') });
    } finally {
      await dest.close();
    }
  } finally {
    for (const { source } of images) await source.close();
  }
  for (const id of ids) await imageEvent(store, 'save', id, out.path ?? 'stdout');
}

function isIdOf(record: ImageRecord, input: string): boolean {
  const hex = input.replace(/^sha256:/, '');
  return /^[a-f0-9]{3,64}$/.test(hex) && record.id.replace(/^sha256:/, '').startsWith(hex);
}

function namesMatch(stored: string, input: string): boolean {
  return stored.endsWith(`/${input}`) || stored.endsWith(`/${input}:latest`) || stored.endsWith(`/library/${input}:latest`);
}

export interface ImportOptions {
  changes?: string[];
  message?: string;
  platform?: Platform;
  onProgress?: ProgressSink;
}

/** `import`: a rootfs tarball (any compression, file or stdin) becomes a one-layer image. */
export async function importImage(store: Store, input: string | Readable, name: string | undefined, opts: ImportOptions = {}): Promise<ImageRecord> {
  // A bad name must fail before any byte is read or stored.
  const names = name ? [storedName(name)] : [];
  const source = typeof input === 'string' ? createReadStream(input) : input;
  let layer;
  try {
    layer = await store.blobs.put(await autoDecompress(source));
  } catch (e) {
    throw new BerthError('ARCHIVE_INVALID', `cannot read ${typeof input === 'string' ? input : 'stdin'}: ${(e as Error).message}`, { cause: e });
  }
  const created = goTimestamp(new Date());
  const platform = opts.platform ?? hostPlatform();
  const config = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: applyChanges({} as ContainerConfig, opts.changes ?? []),
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created, created_by: `/bin/sh -c #(nop) ADD file:${layer.digest.slice(7)} in /`, comment: opts.message ?? 'imported from tarball' }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = digestOf(configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: [{ mediaType: MediaType.OciLayer, digest: layer.digest, size: layer.size }],
    }),
  );
  const image: Image = {
    manifest: { bytes: manifestBytes, mediaType: MediaType.OciManifest, digest: digestOf(manifestBytes) },
    config: { bytes: configBytes, digest: configDigest, mediaType: MediaType.OciConfig },
    layers: [
      {
        digest: layer.digest,
        size: layer.size,
        mediaType: MediaType.OciLayer,
        diffID: layer.digest,
        uncompressedSize: layer.size,
        blob: async () => store.blobs.open(layer.digest),
        tar: async () => store.blobs.open(layer.digest),
      },
    ],
  };
  try {
    const record = await writeStoreImage(store, { image, names }, opts.onProgress);
    await imageEvent(store, 'import', record.id, name ?? (typeof input === 'string' ? input : undefined));
    return record;
  } catch (e) {
    // The layer blob alone would be garbage: only an image makes it reachable.
    await store.collectGarbage({ candidates: { layers: [], blobs: [layer.digest] } });
    throw e;
  }
}
