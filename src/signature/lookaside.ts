/**
 * Lookaside signature storage, as containers/image lays it out: under a base URL, one folder per
 * repository path (without the registry host) and manifest digest, `<base>/<path>@<algo>=<hex>/`,
 * holding `signature-1`, `signature-2`, … (the first missing number ends the list). Read from
 * `file://` and `http(s)://`; written only to `file://` (a staging folder a web server then serves).
 */
import { link, mkdir, open, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDigest } from '../oci/digest.js';
import type { ImageReference } from '../oci/reference.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic.js';
import { randomBytes } from '../util/crypto.js';
import { BerthError, errnoCode } from '../util/errors.js';

/** A signature is small; anything larger is not one (containers/image caps it at 4 MiB too). */
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

/** The URL of the folder holding the signatures of `digest` in `ref`'s repository under `base`. */
export function lookasideFolderURL(base: string, ref: ImageReference, digest: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch (e) {
    throw new BerthError('USAGE', `invalid signature storage URL ${JSON.stringify(base)}`, { cause: e });
  }
  if (!['file:', 'http:', 'https:'].includes(url.protocol)) {
    throw new BerthError('USAGE', `signature storage URL ${JSON.stringify(base)}: unsupported scheme ${url.protocol.replace(/:$/, '')}`);
  }
  const d = parseDigest(digest);
  // Appended as containers/image appends it, without cleaning: a base ending in '/' gives '//'. A
  // bare `https://host` has the empty path there (WHATWG URLs say '/'), so no doubled slash.
  const basePath = url.pathname === '/' && !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\//i.test(base) ? '' : url.pathname;
  url.pathname = `${basePath}/${ref.path}@${d.algorithm}=${d.hex}`;
  return url;
}

/** The URL of signature number `n` (1-based) of `digest`. */
export function lookasideSignatureURL(base: string, ref: ImageReference, digest: string, n: number): URL {
  const folder = lookasideFolderURL(base, ref, digest);
  folder.pathname = `${folder.pathname}/signature-${n}`;
  return folder;
}

async function readFileSignature(url: URL): Promise<Uint8Array | undefined> {
  try {
    const bytes = await readFile(fileURLToPath(url));
    if (bytes.length > MAX_SIGNATURE_BYTES) throw new BerthError('IO', `signature ${url.href} is larger than ${MAX_SIGNATURE_BYTES} bytes`);
    return new Uint8Array(bytes);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

async function readHttpSignature(url: URL): Promise<Uint8Array | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new BerthError('NETWORK', `reading signature ${url.href}: ${(e as Error).message}`, { cause: e, temporary: true });
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new BerthError('NETWORK', `reading signature ${url.href}: HTTP ${res.status}`, { temporary: res.status >= 500 });
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_SIGNATURE_BYTES) {
    await res.body?.cancel();
    throw new BerthError('IO', `signature ${url.href} is larger than ${MAX_SIGNATURE_BYTES} bytes`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_SIGNATURE_BYTES) throw new BerthError('IO', `signature ${url.href} is larger than ${MAX_SIGNATURE_BYTES} bytes`);
  return bytes;
}

/** Every signature of `digest` in the lookaside at `base`, in order; none is an empty list. */
export async function readLookasideSignatures(base: string, ref: ImageReference, digest: string): Promise<Uint8Array[]> {
  const found: Uint8Array[] = [];
  for (let n = 1; ; n++) {
    const url = lookasideSignatureURL(base, ref, digest, n);
    const sig = url.protocol === 'file:' ? await readFileSignature(url) : await readHttpSignature(url);
    if (sig === undefined) return found;
    found.push(sig);
  }
}

/**
 * Writes `signature` into `folder` as its next free `signature-N` and returns the path. Written to a
 * temp file and then linked in: a reader never sees half a signature, and link (unlike rename)
 * fails on an existing name, so two writers never take the same number.
 */
async function addNextSignature(folder: string, signature: Uint8Array): Promise<string> {
  await mkdir(folder, { recursive: true });
  const tmp = join(folder, `.signature.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(signature);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    for (let n = 1; ; n++) {
      const path = join(folder, `signature-${n}`);
      try {
        await link(tmp, path);
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') continue;
        throw e;
      }
      await fsyncDir(folder);
      return path;
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Adds `signature` to the `file://` lookaside at `base`; returns the file written. */
export async function addLookasideSignature(base: string, ref: ImageReference, digest: string, signature: Uint8Array): Promise<string> {
  const folderURL = lookasideFolderURL(base, ref, digest);
  if (folderURL.protocol !== 'file:') {
    throw new BerthError('USAGE', `writing signatures to ${base} is not supported: set a file:// lookaside-staging in registries.d`);
  }
  return addNextSignature(fileURLToPath(folderURL), signature);
}

/**
 * Makes `signatures` the signatures of `digest` in the `file://` lookaside at `base`, as
 * containers/image writes a copied image's: `signature-1`… in order (each replaced whole, through a
 * temp file and a rename), then any higher-numbered ones left from before removed up to the first
 * gap (a reader stops at the first missing number anyway).
 */
export async function putLookasideSignatures(base: string, ref: ImageReference, digest: string, signatures: readonly Uint8Array[]): Promise<void> {
  const folderURL = lookasideFolderURL(base, ref, digest);
  if (folderURL.protocol !== 'file:') {
    throw new BerthError('USAGE', `writing signatures to ${base} is not supported: set a file:// lookaside-staging in registries.d`);
  }
  const folder = fileURLToPath(folderURL);
  await mkdir(folder, { recursive: true });
  for (const [i, signature] of signatures.entries()) await writeFileAtomic(join(folder, `signature-${i + 1}`), signature);
  for (let n = signatures.length + 1; ; n++) {
    try {
      await unlink(join(folder, `signature-${n}`));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') break;
      throw e;
    }
  }
  await fsyncDir(folder);
}
