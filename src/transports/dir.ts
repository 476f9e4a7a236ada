import { createWriteStream } from 'node:fs';
import { access, readdir, rename, rm } from 'node:fs/promises';
import { makeDirs } from '../util/dirs.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image, ImageIndexBundle, NamedImage } from '../image/image.js';
import { digestOf, parseDigest } from '../oci/digest.js';
import { parseManifest, type ImageIndex } from '../oci/manifest.js';
import { hostPlatform, selectFromIndex, type Platform } from '../oci/platform.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { DirectoryFiles, imageOfBlobFiles, type ReadLimit } from './files.js';
import { MaxBytes, readFileAtMost } from '../util/read-limits.js';
import { gatherChunks } from '../util/gather.js';

/**
 * skopeo's `dir:` transport: a directory holding `manifest.json` (the exact manifest bytes), every
 * blob as a file named by its digest's hex (other algorithms as `ALGO-HEX`), and a `version` file.
 * When manifest.json is an index, each instance's manifest is `HEX.manifest.json`.
 */
const VERSION = 'Directory Transport Version: 1.1\n';

export function blobName(digest: string): string {
  const d = parseDigest(digest);
  return d.algorithm === 'sha256' ? d.hex : `${d.algorithm}-${d.hex}`;
}

/** A manifest (or with `limit`, a config) of the directory, read whole and checked against its digest. */
async function readVerified(dir: string, name: string, digest: string, limit?: ReadLimit): Promise<Buffer> {
  const { max, what } = limit ?? { max: MaxBytes.manifest, what: `dir:${dir}: ${name}` };
  const bytes = await readFileAtMost(join(dir, name), max, what).catch((e: unknown) => {
    if (e instanceof BerthError) throw e;
    throw new BerthError(errnoCode(e) === 'ENOENT' ? 'IMAGE_UNKNOWN' : 'IO', `dir:${dir}: ${name}: ${(e as Error).message}`);
  });
  if (digestOf(bytes, parseDigest(digest).algorithm) !== digest)
    throw new BerthError('DIGEST_MISMATCH', `dir:${dir}: ${name} does not match its digest ${digest}`);
  return bytes;
}

/** The image a manifest in a `dir:` directory describes (its config read and verified). */
async function imageFrom(dir: string, bytes: Buffer, digest: string, mediaType?: string): Promise<Image> {
  const parsed = parseManifest(bytes, mediaType);
  if (parsed.kind !== 'manifest') throw new BerthError('MANIFEST_UNSUPPORTED', `dir:${dir}: nested indexes are not supported`);
  const files = new DirectoryFiles(dir);
  return imageOfBlobFiles(
    { where: `dir:${dir}`, read: (d, limit) => readVerified(dir, blobName(d), d, limit), open: (d) => files.open(blobName(d)) },
    { bytes, mediaType: parsed.mediaType, digest },
    parsed.manifest,
  );
}

async function readTop(dir: string): Promise<{ bytes: Buffer; digest: string }> {
  const bytes: Buffer = await readFileAtMost(join(dir, 'manifest.json'), MaxBytes.manifest, `dir:${dir}: manifest.json`).catch((e: unknown) => {
    if (e instanceof BerthError) throw e;
    throw new BerthError(errnoCode(e) === 'ENOENT' ? 'IMAGE_UNKNOWN' : 'IO', `dir:${dir}: no image here (${(e as Error).message})`);
  });
  return { bytes, digest: digestOf(bytes) };
}

/** The image in a `dir:` directory; an index there is resolved for `platform` (default: this host's). */
export async function readDirImage(dir: string, opts: { platform?: Platform } = {}): Promise<NamedImage> {
  const top = await readTop(dir);
  const parsed = parseManifest(top.bytes);
  if (parsed.kind !== 'index') return { image: await imageFrom(dir, top.bytes, top.digest), names: [] };
  const chosen = selectFromIndex(parsed.index as ImageIndex, opts.platform ?? hostPlatform());
  const bytes = await readVerified(dir, `${blobName(chosen.digest)}.manifest.json`, chosen.digest);
  const image = await imageFrom(dir, bytes, chosen.digest, chosen.mediaType);
  return { image: { ...image, index: { bytes: top.bytes, mediaType: parsed.mediaType, digest: top.digest } }, names: [] };
}

/** For a copy of every platform: the index in a `dir:` directory with every child, or its one image. */
export async function readDirIndex(dir: string): Promise<ImageIndexBundle | Image> {
  const top = await readTop(dir);
  const parsed = parseManifest(top.bytes);
  if (parsed.kind !== 'index') return imageFrom(dir, top.bytes, top.digest);
  const children: Image[] = [];
  for (const d of parsed.index.manifests) {
    const bytes = await readVerified(dir, `${blobName(d.digest)}.manifest.json`, d.digest);
    children.push(await imageFrom(dir, bytes, d.digest, d.mediaType));
  }
  return { index: { bytes: top.bytes, mediaType: parsed.mediaType, digest: top.digest }, children };
}

/**
 * Makes `dir` ready for a new `dir:` image (transports/copy/dir.ts writes it), as skopeo does: it must be empty or hold a previous
 * `dir:` image (whose files are removed). Returns the writer of one named file: through a temp
 * name, kept when present already.
 */
export async function prepareDir(dir: string): Promise<(name: string, body: Buffer | Readable) => Promise<void>> {
  await makeDirs(dir);
  const present = await readdir(dir);
  if (present.length > 0) {
    if (!present.includes('version')) throw new BerthError('USAGE', `dir:${dir}: refusing to overwrite a directory that is not empty and holds no dir: image`);
    await Promise.all(present.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  }
  await writeFileAtomic(join(dir, 'version'), VERSION);
  return async (name, body) => {
    const target = join(dir, name);
    if (
      await access(target).then(
        () => true,
        () => false,
      )
    )
      return;
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, gatherChunks(), createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  };
}

/** containers/image's limit on one signature file. */
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

/** A signature's file name: `signature-N` of the top manifest, `<hex>.signature-N` of an index's instance (containers/image's dir layout). */
function signatureName(n: number, instance?: string): string {
  return instance === undefined ? `signature-${n}` : `${parseDigest(instance).hex}.signature-${n}`;
}

/**
 * The signature files of a `dir:` image, in order (the first missing number ends the list): of its
 * top manifest, or with `instance` of that child of its index. Their bytes as they are: a GPG
 * signed message or containers/image's `sigstore-json` blob.
 */
export async function readDirSignatures(dir: string, instance?: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (let n = 1; ; n++) {
    const name = signatureName(n, instance);
    try {
      found.push(await readFileAtMost(join(dir, name), MAX_SIGNATURE_BYTES, `dir:${dir}: ${name}`));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return found;
      throw e;
    }
  }
}

/** Writes `signatures` as the signature files of a `dir:` image (of its top manifest, or with `instance` of that child), replacing any there. */
export async function writeDirSignatures(dir: string, signatures: readonly Uint8Array[], instance?: string): Promise<void> {
  for (const [i, signature] of signatures.entries()) await writeFileAtomic(join(dir, signatureName(i + 1, instance)), signature);
  for (let n = signatures.length + 1; ; n++) {
    try {
      await rm(join(dir, signatureName(n, instance)));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw e;
    }
  }
}

/** The signature files of the manifest `digest` in a `dir:` image: its top manifest's, or an index child's. */
export async function dirSignaturesOf(dir: string, digest: string): Promise<Buffer[]> {
  const top = await readTop(dir);
  return readDirSignatures(dir, top.digest === digest ? undefined : digest);
}
