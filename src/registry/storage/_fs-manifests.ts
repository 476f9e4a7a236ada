// Manifests, tags and referrers of a repository on the filesystem. A manifest's bytes are a blob like any
// other; the repository holds a revision file naming its media type (and subject, to undo the referrers
// entry on delete). Every file is written whole and renamed into place.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { digestOf, parseDigest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { errnoCode } from '../../util/errors.js';
import { RegistryError } from '../errors.js';
import { exists, fileSize, paginate, publish, touchBlob, type FsPaths } from './_fs-paths.js';
import type { ManifestEntry, ManifestStore, Page, PageRequest, PutManifestOptions, StoredManifest, TagStore } from './types.js';
import { compareStrings } from '../../util/compare.js';

interface Revision {
  mediaType: string;
  size: number;
  subject?: string;
}

async function readJSON<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function writeAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw e;
  }
}

export class FsManifests implements ManifestStore {
  constructor(private readonly paths: FsPaths) {}

  async put(repository: string, bytes: Uint8Array, mediaType: string, opts: PutManifestOptions = {}): Promise<StoredManifest> {
    const algorithm = opts.digest === undefined ? 'sha256' : parseDigest(opts.digest).algorithm;
    const digest = digestOf(bytes, algorithm);
    if (opts.digest !== undefined && opts.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', `manifest has digest ${digest}, not ${opts.digest}`, { detail: { digest: opts.digest } });
    }
    const blob = this.paths.blob(digest);
    // An existing blob is touched, so that garbage collection running now leaves it be (or it is written anew).
    if ((await fileSize(blob)) !== bytes.length || !(await touchBlob(blob))) {
      const tmp = await this.paths.tmpFile();
      await writeFile(tmp, bytes);
      await publish(tmp, blob);
    }
    const revision: Revision = { mediaType, size: bytes.length };
    if (opts.referrer) revision.subject = opts.referrer.subject;
    await writeAtomic(this.paths.revision(repository, digest), JSON.stringify(revision));
    if (opts.referrer) {
      const entry = this.paths.referrer(repository, opts.referrer.subject, digest);
      await writeAtomic(entry, JSON.stringify(opts.referrer.descriptor));
    }
    return { digest, mediaType, size: bytes.length };
  }

  async stat(repository: string, digest: string): Promise<StoredManifest | undefined> {
    const rev = await readJSON<Revision>(this.paths.revision(repository, digest));
    if (!rev || !(await exists(this.paths.blob(digest)))) return undefined;
    return { digest, mediaType: rev.mediaType, size: rev.size };
  }

  async get(repository: string, digest: string): Promise<{ manifest: StoredManifest; bytes: Buffer } | undefined> {
    const manifest = await this.stat(repository, digest);
    if (!manifest) return undefined;
    try {
      return { manifest, bytes: await readFile(this.paths.blob(digest)) };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async delete(repository: string, digest: string): Promise<boolean> {
    const path = this.paths.revision(repository, digest);
    const rev = await readJSON<Revision>(path);
    if (!rev) return false;
    if (rev.subject) await rm(this.paths.referrer(repository, rev.subject, digest), { force: true });
    const tagsDir = this.paths.tags(repository);
    for (const tag of await list(tagsDir)) {
      const target = await readFile(join(tagsDir, tag), 'utf8').catch(() => '');
      if (target === digest) await rm(join(tagsDir, tag), { force: true });
    }
    await rm(path, { force: true });
    return true;
  }

  async list(repository: string): Promise<ManifestEntry[]> {
    const dir = join(this.paths.repository(repository), '_manifests', 'revisions');
    const out: ManifestEntry[] = [];
    for (const algorithm of await list(dir)) {
      for (const hex of await list(join(dir, algorithm))) {
        const path = join(dir, algorithm, hex);
        const [rev, st] = await Promise.all([readJSON<Revision>(path).catch(() => undefined), stat(path).catch(() => undefined)]);
        if (!rev || !st) continue;
        const entry: ManifestEntry = { digest: `${algorithm}:${hex}`, mediaType: rev.mediaType, size: rev.size, modified: st.mtimeMs };
        if (rev.subject !== undefined) entry.subject = rev.subject;
        out.push(entry);
      }
    }
    return out;
  }

  async referrers(repository: string, subject: string): Promise<Descriptor[]> {
    const dir = this.paths.referrers(repository, subject);
    const out: Descriptor[] = [];
    for (const name of (await list(dir)).filter((n) => n.endsWith('.json')).sort(compareStrings)) {
      const d = await readJSON<Descriptor>(join(dir, name));
      if (d && (await this.stat(repository, d.digest))) out.push(d);
    }
    return out;
  }
}

export class FsTags implements TagStore {
  constructor(
    private readonly paths: FsPaths,
    private readonly manifests: ManifestStore,
    private readonly repositoryExists: (name: string) => Promise<boolean>,
  ) {}

  async set(repository: string, tag: string, digest: string): Promise<void> {
    if (!(await this.manifests.stat(repository, digest))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is unknown to repository ${repository}`, { detail: { digest } });
    }
    await writeAtomic(join(this.paths.tags(repository), tag), digest);
  }

  async get(repository: string, tag: string): Promise<string | undefined> {
    try {
      const digest = (await readFile(join(this.paths.tags(repository), tag), 'utf8')).trim();
      return digest === '' ? undefined : digest;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR' || errnoCode(e) === 'EISDIR') return undefined;
      throw e;
    }
  }

  async delete(repository: string, tag: string): Promise<boolean> {
    const path = join(this.paths.tags(repository), tag);
    if (!(await exists(path))) return false;
    await rm(path, { force: true });
    return true;
  }

  async list(repository: string, page?: PageRequest): Promise<Page<string> | undefined> {
    if (!(await this.repositoryExists(repository))) return undefined;
    return paginate((await list(this.paths.tags(repository))).sort(compareStrings), page);
  }
}
