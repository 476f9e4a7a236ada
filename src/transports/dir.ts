import { createWriteStream } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { autoDecompress } from '../archive/compression.js';
import type { Layer, NamedImage } from '../image/image.js';
import { digestOf, parseDigest } from '../oci/digest.js';
import { parseImageConfig, parseManifest, type ImageIndex } from '../oci/manifest.js';
import { hostPlatform, selectFromIndex, type Platform } from '../oci/platform.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { DirectoryFiles } from './files.js';

/**
 * skopeo's `dir:` transport: a directory holding `manifest.json` (the exact manifest bytes), every
 * blob as a file named by its digest's hex (other algorithms as `ALGO-HEX`), and a `version` file.
 * When manifest.json is an index, each instance's manifest is `HEX.manifest.json`.
 */
const VERSION = 'Directory Transport Version: 1.1\n';

function blobName(digest: string): string {
  const d = parseDigest(digest);
  return d.algorithm === 'sha256' ? d.hex : `${d.algorithm}-${d.hex}`;
}

async function readVerified(dir: string, name: string, digest: string): Promise<Buffer> {
  const bytes = await readFile(join(dir, name)).catch((e: unknown) => {
    throw new BerthError(errnoCode(e) === 'ENOENT' ? 'IMAGE_UNKNOWN' : 'IO', `dir:${dir}: ${name}: ${(e as Error).message}`);
  });
  if (digestOf(bytes, parseDigest(digest).algorithm) !== digest) throw new BerthError('DIGEST_MISMATCH', `dir:${dir}: ${name} does not match its digest ${digest}`);
  return bytes;
}

/** The image in a `dir:` directory; an index there is resolved for `platform` (default: this host's). */
export async function readDirImage(dir: string, opts: { platform?: Platform } = {}): Promise<NamedImage> {
  let bytes: Buffer = await readFile(join(dir, 'manifest.json')).catch((e: unknown) => {
    throw new BerthError(errnoCode(e) === 'ENOENT' ? 'IMAGE_UNKNOWN' : 'IO', `dir:${dir}: no image here (${(e as Error).message})`);
  });
  let digest = digestOf(bytes);
  let parsed = parseManifest(bytes);
  let index: { bytes: Buffer; mediaType: string; digest: string } | undefined;
  if (parsed.kind === 'index') {
    index = { bytes, mediaType: parsed.mediaType, digest };
    const chosen = selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform());
    bytes = await readVerified(dir, `${blobName(chosen.digest)}.manifest.json`, chosen.digest);
    digest = chosen.digest;
    parsed = parseManifest(bytes, chosen.mediaType);
    if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `dir:${dir}: nested indexes are not supported`);
  }
  const manifest = parsed.manifest;
  const configBytes = await readVerified(dir, blobName(manifest.config.digest), manifest.config.digest);
  const diffIDs = parseImageConfig(configBytes).rootfs.diff_ids;
  if (diffIDs.length !== manifest.layers.length) {
    throw new BerthError('MANIFEST_INVALID', `dir:${dir}: the manifest has ${manifest.layers.length} layers but its config ${diffIDs.length} diff IDs`);
  }
  const files = new DirectoryFiles(dir);
  const layers: Layer[] = manifest.layers.map((d, i) => ({
    digest: d.digest,
    size: d.size,
    mediaType: d.mediaType,
    diffID: diffIDs[i]!,
    blob: async () => files.open(blobName(d.digest)),
    tar: async () => autoDecompress(files.open(blobName(d.digest))),
  }));
  return {
    image: {
      manifest: { bytes, mediaType: parsed.mediaType, digest },
      ...(index ? { index } : {}),
      config: { bytes: configBytes, digest: manifest.config.digest, mediaType: manifest.config.mediaType },
      layers,
    },
    names: [],
  };
}

/**
 * Writes an image into a `dir:` directory as skopeo does: an existing directory must be empty or
 * hold a previous `dir:` image (whose files are replaced). Blobs go in through temp names, and
 * manifest.json, written last, marks the image whole.
 */
export async function writeDirImage(image: NamedImage['image'], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length > 0) {
    if (!present.includes('version')) throw new BerthError('USAGE', `dir:${dir}: refusing to overwrite a directory that is not empty and holds no dir: image`);
    await Promise.all(present.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  }
  await writeFileAtomic(join(dir, 'version'), VERSION);
  const put = async (name: string, body: Buffer | Readable) => {
    const target = join(dir, name);
    if (await access(target).then(() => true, () => false)) return;
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  };
  for (const layer of image.layers) await put(blobName(layer.digest), await layer.blob());
  await put(blobName(image.config.digest), image.config.bytes);
  await writeFileAtomic(join(dir, 'manifest.json'), image.manifest.bytes);
}
