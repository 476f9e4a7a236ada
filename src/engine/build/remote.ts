import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DigestingStream } from '../../oci/digest.js';
import { BerthError } from '../../util/errors.js';

/** A URL as ADD takes it (BuildKit: http and https only; git URLs are not berth's). */
export function isRemoteSource(word: string): boolean {
  return /^https?:\/\//i.test(word);
}

export interface Download {
  url: string;
  /** The file in temp space, mode 0600, with the Last-Modified time when the server gave one. */
  path: string;
  /** The name the file gets in a destination directory. */
  name: string;
  /** `sha256:<hex>` of the content. */
  digest: string;
}

/**
 * The file name an ADD of `url` into a directory makes, as BuildKit picks it: the Content-Disposition
 * filename, else the last component of the URL's path, else `download`.
 */
function fileNameOf(url: URL, disposition: string | null): string {
  const m = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  const fromHeader = m ? posix.basename(decodeURIComponent(m[1]!.trim())) : '';
  if (fromHeader && fromHeader !== '.' && fromHeader !== '..' && fromHeader !== '/') return fromHeader;
  const base = posix.basename(decodeURIComponent(url.pathname));
  return base && base !== '.' && base !== '..' && base !== '/' ? base : 'download';
}

/**
 * Downloads `url` into `dir`, streaming to disk while hashing, as ADD fetches a remote source:
 * mode 0600 (docker's), the mtime from Last-Modified when present. With `checksum` the content must
 * have that digest. Any HTTP status but 2xx is an error naming the URL and the status.
 */
export async function downloadUrl(url: string, dir: string, checksum?: string, signal?: AbortSignal): Promise<Download> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new BerthError('DOCKERFILE_INVALID', `ADD ${url}: not a valid URL`, { cause: e });
  }
  let res: Response;
  try {
    res = await fetch(parsed, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (e) {
    signal?.throwIfAborted();
    const cause = (e as { cause?: Error }).cause;
    throw new BerthError('IO', `ADD ${url}: ${cause?.message ?? (e as Error).message}`, { cause: e, temporary: true });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new BerthError('IO', `ADD ${url}: the server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, {
      temporary: res.status >= 500 || res.status === 429,
    });
  }
  const name = fileNameOf(parsed, res.headers.get('content-disposition'));
  const path = join(dir, `download-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
  const hashing = new DigestingStream();
  try {
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), hashing, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    signal?.throwIfAborted();
    throw new BerthError('IO', `ADD ${url}: downloading: ${(e as Error).message}`, { cause: e, temporary: true });
  }
  const digest = hashing.digest;
  if (checksum !== undefined && checksum !== digest) {
    throw new BerthError('BUILD_FAILED', `ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`);
  }
  await chmod(path, 0o600);
  const lastModified = res.headers.get('last-modified');
  const when = lastModified ? new Date(lastModified) : undefined;
  if (when && !Number.isNaN(when.getTime())) await utimes(path, when, when);
  return { url, path, name, digest };
}

/** `--checksum=sha256:<hex>`, checked before anything is fetched. */
export function parseChecksum(value: string, line: number): string {
  const m = /^sha256:([0-9a-f]{64})$/i.exec(value.trim());
  if (!m) throw new BerthError('DOCKERFILE_INVALID', `invalid --checksum=${value}: sha256:<64 hex digits> is expected (line ${line})`);
  return `sha256:${m[1]!.toLowerCase()}`;
}
