// Where the filesystem backend keeps things, and small helpers shared by its parts.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDigest } from '../../oci/digest.js';
import { errnoCode } from '../../util/errors.js';
import { fsyncDir } from '../../util/atomic.js';
import type { Page, PageRequest } from './types.js';

/**
 * root/blobs/<alg>/<hex[0:2]>/<hex>                       content, once per registry
 * root/uploads/<id>/{data,info.json}                       upload sessions
 * root/tmp/                                                 files being written, renamed into place when whole
 * root/repositories/<name>/_layers/<alg>/<hex>             a blob linked into the repository (empty file)
 * root/repositories/<name>/_manifests/revisions/<alg>/<hex> a manifest of the repository: {mediaType,size,subject?}
 * root/repositories/<name>/_manifests/tags/<tag>           the digest a tag points at
 * root/repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex>.json  a referrer's descriptor, by subject
 * Name components never start with "_", so a repository's own folders cannot clash with nested repositories.
 */
export class FsPaths {
  constructor(readonly root: string) {}

  blob(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }
  uploads(): string {
    return join(this.root, 'uploads');
  }
  upload(id: string): string {
    return join(this.root, 'uploads', id);
  }
  tmp(): string {
    return join(this.root, 'tmp');
  }
  repositories(): string {
    return join(this.root, 'repositories');
  }
  repository(name: string): string {
    return join(this.root, 'repositories', ...name.split('/'));
  }
  link(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.repository(name), '_layers', algorithm, hex);
  }
  revision(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.repository(name), '_manifests', 'revisions', algorithm, hex);
  }
  tags(name: string): string {
    return join(this.repository(name), '_manifests', 'tags');
  }
  referrers(name: string, subject: string): string {
    const { algorithm, hex } = parseDigest(subject);
    return join(this.repository(name), '_referrers', algorithm, hex);
  }
  referrer(name: string, subject: string, digest: string): string {
    return join(this.referrers(name, subject), `${digest.replace(':', '-')}.json`);
  }

  /** A fresh private name in tmp/ for a file to be renamed into place. */
  async tmpFile(): Promise<string> {
    await mkdir(this.tmp(), { recursive: true });
    return join(this.tmp(), `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return false;
    throw e;
  }
}

/** The size of a regular file, undefined when there is none. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** fsyncs a complete file and renames it to `to` (replacing what is there), then fsyncs the directory. */
export async function publish(from: string, to: string): Promise<void> {
  const fh = await open(from, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (e) {
    await rm(from, { force: true });
    throw e;
  }
  await fsyncDir(dirname(to));
}

/** Items of a sorted list after `last`, at most `n` of them. */
export function paginate(sorted: string[], page: PageRequest = {}): Page<string> {
  const last = page.last;
  const from = last === undefined ? 0 : sorted.findIndex((s) => s > last);
  const rest = from === -1 ? [] : sorted.slice(from);
  if (page.n === undefined || rest.length <= page.n) return { items: rest };
  const items = rest.slice(0, page.n);
  return items.length === 0 ? { items } : { items, next: items[items.length - 1]! };
}

/** Blobs touched within this long are not touched again by a mere check (a pull must not write on every GET). */
export const TOUCH_AFTER_MS = 10_000;

/**
 * Marks a blob as just used (its mtime is now), so that garbage collection's grace period protects it while
 * a push that relies on it finishes; false if it is gone.
 */
export async function touchBlob(path: string, ifOlderThanMs = 0): Promise<boolean> {
  try {
    if (ifOlderThanMs > 0) {
      const st = await stat(path);
      if (Date.now() - st.mtimeMs < ifOlderThanMs) return true;
    }
    const now = new Date();
    await utimes(path, now, now);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return false;
    throw e;
  }
}

export async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw e;
  }
}
