import { createStreamHash } from '../util/hash.js';
import type { Readable } from 'node:stream';
import { autoDecompress, detectCompression } from '../archive/compression.js';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { parseImageConfig } from '../oci/manifest.js';
import { parseNormalizedNamed, formatReference, withDefaultTag } from '../oci/reference.js';
import type { Image, Layer, NamedImage } from '../image/image.js';
import { BerthError } from '../util/errors.js';
import type { ArchiveFiles } from './files.js';
import { MaxBytes } from '../util/read-limits.js';

interface ArchiveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Whether the files look like `docker save` / `podman save` output. */
export async function isDockerArchive(files: ArchiveFiles): Promise<boolean> {
  return (await files.size('manifest.json')) !== undefined;
}

/**
 * Reads every image of a docker-archive (`docker save` layout: manifest.json, <id>.json configs and
 * layer tars). The archive has no registry manifest, so one is made: Docker schema2, uncompressed
 * layers, whose digests are the diff IDs.
 */
export async function readDockerArchive(files: ArchiveFiles): Promise<NamedImage[]> {
  let entries: ArchiveManifestEntry[];
  try {
    entries = JSON.parse(
      (await files.readFile('manifest.json', { max: MaxBytes.manifest, what: `${files.description}: manifest.json` })).toString('utf8'),
    ) as ArchiveManifestEntry[];
  } catch (e) {
    if (e instanceof BerthError) throw e;
    throw new BerthError('ARCHIVE_INVALID', `${files.description}: manifest.json is not valid JSON`, { cause: e });
  }
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new BerthError('ARCHIVE_INVALID', `${files.description}: manifest.json lists no images`);
  }
  const out: NamedImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new BerthError('ARCHIVE_INVALID', `${files.description}: manifest.json entry lacks Config or Layers`);
    }
    const configBytes = await files.readFile(entry.Config, { max: MaxBytes.config, what: `${files.description}: image config ${entry.Config}` });
    const configDigest = digestOf(configBytes);
    const config = parseImageConfig(configBytes);
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== entry.Layers.length) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        `${files.description}: ${entry.Config} has ${diffIDs.length} diff IDs but manifest.json lists ${entry.Layers.length} layers`,
      );
    }
    const layers: Layer[] = [];
    for (let i = 0; i < entry.Layers.length; i++) {
      const name = entry.Layers[i]!;
      const size = await files.size(name);
      if (size === undefined) throw new BerthError('ARCHIVE_INVALID', `${files.description}: layer ${name} is missing`);
      const head = await firstBytes(files.open(name));
      const compression = detectCompression(head);
      // Uncompressed layers (what docker and podman write) are their own diff ID; a compressed
      // one must be hashed to get the digest the synthesized manifest needs.
      const digest = compression === 'none' ? diffIDs[i]! : await hashStream(files.open(name));
      layers.push({
        digest,
        size,
        mediaType: compression === 'none' ? MediaType.DockerLayerUncompressed : MediaType.DockerLayerGzip,
        diffID: diffIDs[i]!,
        ...(compression === 'none' ? { uncompressedSize: size } : {}),
        blob: async () => files.open(name),
        tar: async () => autoDecompress(files.open(name)),
      });
    }
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, size: configBytes.length, digest: configDigest },
        layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
      }),
    );
    const names = (entry.RepoTags ?? []).map((t) => formatReference(withDefaultTag(parseNormalizedNamed(t))));
    out.push({
      image: {
        manifest: { bytes: manifestBytes, mediaType: MediaType.DockerManifest, digest: digestOf(manifestBytes) },
        config: { bytes: configBytes, digest: configDigest, mediaType: MediaType.DockerConfig },
        layers,
      },
      names,
    });
  }
  return out;
}

async function firstBytes(s: Readable): Promise<Buffer> {
  for await (const chunk of s) {
    s.destroy();
    return chunk as Buffer;
  }
  return Buffer.alloc(0);
}

async function hashStream(s: Readable): Promise<string> {
  const h = createStreamHash('sha256');
  for await (const chunk of s) h.update(chunk as Buffer);
  return `sha256:${h.hex()}`;
}

export type { Image };
