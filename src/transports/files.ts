import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { autoDecompress, detectCompression } from '../archive/compression.js';
import { indexTar, type TarIndexEntry } from '../archive/tar-index.js';
import type { Image, Layer, ManifestBlob } from '../image/image.js';
import { parseImageConfig, type ImageManifest } from '../oci/manifest.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { MaxBytes, readFileAtMost, tooLargeError } from '../util/read-limits.js';

/**
 * Read access to the files of an image archive or layout, whether it is a directory or a tar file
 * read in place through its header index: the archive readers do not care which.
 */
export interface ArchiveFiles {
  readonly description: string;
  size(name: string): Promise<number | undefined>;
  /** A small file (a manifest, a config) whole; one larger than `limit.max` is refused, named as `limit.what`, before it is read. */
  readFile(name: string, limit: ReadLimit): Promise<Buffer>;
  open(name: string): Readable;
}

/** How much of a file may be read into memory, and what to call it when it holds more. */
export interface ReadLimit {
  max: number;
  what: string;
}

export class DirectoryFiles implements ArchiveFiles {
  constructor(readonly dir: string) {}
  get description(): string {
    return this.dir;
  }
  async size(name: string): Promise<number | undefined> {
    try {
      return (await stat(this.resolve(name))).size;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
  }
  async readFile(name: string, limit: ReadLimit): Promise<Buffer> {
    try {
      return await readFileAtMost(this.resolve(name), limit.max, limit.what);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('ARCHIVE_INVALID', `${this.dir}: ${name} is missing`);
      throw e;
    }
  }
  open(name: string): Readable {
    return createReadStream(this.resolve(name));
  }
  private resolve(name: string): string {
    const clean = posix.normalize(name);
    if (clean.startsWith('..') || posix.isAbsolute(clean)) throw new BerthError('PATH_ESCAPE', `${this.dir}: "${name}" points outside the layout`);
    return join(this.dir, clean);
  }
}

export class TarFiles implements ArchiveFiles {
  private constructor(
    readonly path: string,
    private readonly entries: Map<string, TarIndexEntry>,
  ) {}

  static async open(path: string): Promise<TarFiles> {
    return new TarFiles(path, await indexTar(path));
  }

  get description(): string {
    return this.path;
  }

  private entry(name: string, seen = 0): TarIndexEntry | undefined {
    const e = this.entries.get(posix.normalize(name).replace(/^\.\//, ''));
    if (!e || seen > 8) return e;
    // docker save's legacy layout links <id>/layer.tar to ../<diffid>.tar
    if (e.type === 'symlink') return this.entry(posix.join(posix.dirname(e.name), e.linkname), seen + 1);
    if (e.type === 'link') return this.entry(e.linkname, seen + 1);
    return e;
  }

  async size(name: string): Promise<number | undefined> {
    return this.entry(name)?.size;
  }

  async readFile(name: string, limit: ReadLimit): Promise<Buffer> {
    const e = this.require(name);
    if (e.size > limit.max) throw tooLargeError(limit.what, e.size, limit.max);
    const buf = Buffer.alloc(e.size);
    const fh = await open(this.path, 'r');
    try {
      await fh.read(buf, 0, e.size, e.offset);
    } finally {
      await fh.close();
    }
    return buf;
  }

  open(name: string): Readable {
    const e = this.require(name);
    if (e.size === 0) return createReadStream(this.path, { start: 0, end: -1 });
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1 });
  }

  private require(name: string): TarIndexEntry {
    const e = this.entry(name);
    if (!e) throw new BerthError('ARCHIVE_INVALID', `${this.path}: archive has no ${name}`);
    return e;
  }
}

/**
 * Opens a tar archive for reading in place. A compressed archive, or one that is not a regular
 * file (stdin, a pipe), is first copied, decompressed, into `spoolPath`: random access needs a file.
 */
export async function openTarArchive(input: string | Readable, spoolPath: () => Promise<string>): Promise<TarFiles> {
  if (typeof input === 'string') {
    let st;
    try {
      st = await stat(input);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('ARCHIVE_INVALID', `${input}: no such file`);
      throw e;
    }
    if (st.isFile()) {
      const head = Buffer.alloc(8);
      const fh = await open(input, 'r');
      try {
        await fh.read(head, 0, 8, 0);
      } finally {
        await fh.close();
      }
      if (detectCompression(head) === 'none') return TarFiles.open(input);
    }
  }
  const spool = await spoolPath();
  const source = typeof input === 'string' ? createReadStream(input) : input;
  try {
    await pipeline(await autoDecompress(source), createWriteStream(spool));
  } catch (e) {
    throw new BerthError('ARCHIVE_INVALID', `cannot read archive: ${(e as Error).message}`, { cause: e });
  }
  return TarFiles.open(spool);
}

/** Blobs kept as files named by their digests, as an OCI layout and a `dir:` directory keep them. */
export interface BlobFiles {
  /** Where they are, for messages. */
  readonly where: string;
  /** A small blob (at most `limit.max` bytes), checked against its digest. */
  read(digest: string, limit: ReadLimit): Promise<Buffer>;
  open(digest: string): Readable;
}

/** The image a manifest among such blobs describes: its config read and checked against the layers, each layer opened when asked. */
export async function imageOfBlobFiles(blobs: BlobFiles, manifestBlob: ManifestBlob, manifest: ImageManifest): Promise<Image> {
  const what = `${blobs.where}: image config ${manifest.config.digest}`;
  if (manifest.config.size > MaxBytes.config) throw tooLargeError(what, manifest.config.size, MaxBytes.config);
  const configBytes = await blobs.read(manifest.config.digest, { max: MaxBytes.config, what });
  const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
  if (diffIDs.length !== manifest.layers.length) {
    throw new BerthError(
      'MANIFEST_INVALID',
      `${blobs.where}: manifest ${manifestBlob.digest} has ${manifest.layers.length} layers but its config ${diffIDs.length} diff IDs`,
    );
  }
  const layers: Layer[] = manifest.layers.map((d, i) => ({
    digest: d.digest,
    size: d.size,
    mediaType: d.mediaType,
    diffID: diffIDs[i]!,
    blob: async () => blobs.open(d.digest),
    tar: async () => autoDecompress(blobs.open(d.digest)),
  }));
  return {
    manifest: manifestBlob,
    config: { bytes: configBytes, digest: manifest.config.digest, mediaType: manifest.config.mediaType },
    layers,
  };
}
