// Upload sessions on the filesystem: bytes go to uploads/<id>/data; finishing verifies the digest and
// renames the file into blobs/, so a blob is either absent or whole and verified.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseDigest, type Algorithm } from '../../oci/digest.js';
import { errnoCode } from '../../util/errors.js';
import { RegistryError } from '../errors.js';
import { fileSize, publish, type FsPaths } from './_fs-paths.js';
import { receiveInto } from '../../util/receive-into.js';
import { releaseTransferred } from '../_release-buffers.js';
import type { BlobInfo, LinkStore, UploadStatus, UploadStore } from './types.js';

const ID_RE = /^[a-f0-9-]{36}$/;
/** Running sha256 states of sessions appended to by this process, so that finishing need not reread them. */
const MAX_RUNNING = 1024;

interface RunningHash {
  size: number;
  hash: Hash;
}

export class FsUploads implements UploadStore {
  private readonly busy = new Set<string>();
  private readonly running = new Map<string, RunningHash>();

  constructor(
    private readonly paths: FsPaths,
    private readonly links: LinkStore,
  ) {}

  async create(repository: string): Promise<UploadStatus> {
    const id = randomUUID();
    const dir = this.paths.upload(id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data'), '');
    await writeFile(join(dir, 'info.json'), JSON.stringify({ repository, started: new Date().toISOString() }));
    return { id, repository, size: 0 };
  }

  async status(repository: string, id: string): Promise<UploadStatus> {
    const unknown = () => new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown to the registry`, { detail: { id } });
    if (!ID_RE.test(id)) throw unknown();
    let info: { repository?: unknown };
    try {
      info = JSON.parse(await readFile(join(this.paths.upload(id), 'info.json'), 'utf8')) as { repository?: unknown };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || e instanceof SyntaxError) throw unknown();
      throw e;
    }
    const size = await fileSize(join(this.paths.upload(id), 'data'));
    if (info.repository !== repository || size === undefined) throw unknown();
    return { id, repository, size };
  }

  async append(repository: string, id: string, offset: number, data: Readable): Promise<UploadStatus> {
    const before = await this.status(repository, id);
    if (offset !== before.size || this.busy.has(id)) {
      data.resume();
      throw new RegistryError('RANGE_INVALID', `upload ${id} is at offset ${before.size}, not ${offset}`, { detail: { size: before.size } });
    }
    this.busy.add(id);
    const file = join(this.paths.upload(id), 'data');
    let running = this.running.get(id);
    if (running?.size !== offset) this.running.delete(id);
    if (offset === 0) {
      running = { size: 0, hash: createHash('sha256') };
      if (this.running.size >= MAX_RUNNING) this.running.delete(this.running.keys().next().value!);
      this.running.set(id, running);
    }
    const tracked = this.running.get(id);
    const onChunk = (chunk: Buffer) => {
      if (tracked) {
        tracked.hash.update(chunk);
        tracked.size += chunk.length;
      }
      releaseTransferred(chunk.length);
    };
    let fh: FileHandle | undefined;
    try {
      fh = await open(file, 'r+');
      const written = await receiveInto(data, fh, offset, onChunk);
      await fh.close();
      fh = undefined;
      return { id, repository, size: offset + written };
    } catch (e) {
      await fh?.close().catch(() => undefined);
      this.running.delete(id);
      await truncate(file, offset).catch(() => undefined);
      throw e;
    } finally {
      this.busy.delete(id);
    }
  }

  async finish(repository: string, id: string, digest: string): Promise<BlobInfo> {
    const { size } = await this.status(repository, id);
    if (this.busy.has(id)) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${id} is still receiving data`);
    this.busy.add(id);
    try {
      const file = join(this.paths.upload(id), 'data');
      const { algorithm } = parseDigest(digest);
      const running = this.running.get(id);
      const actual = algorithm === 'sha256' && running?.size === size ? `sha256:${running.hash.copy().digest('hex')}` : await hashFile(file, algorithm);
      if (actual !== digest) {
        await this.drop(id);
        throw new RegistryError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${digest}`, { detail: { digest } });
      }
      await publish(file, this.paths.blob(digest));
      const info = await this.links.link(repository, digest);
      await this.drop(id);
      return info;
    } finally {
      this.busy.delete(id);
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.status(repository, id).catch((e: unknown) => {
      // A session whose info.json is broken can still be cancelled by garbage collection, which names no repository.
      if (repository !== '') throw e;
    });
    await this.drop(id);
  }

  async list(): Promise<(UploadStatus & { modified: number })[]> {
    const out: (UploadStatus & { modified: number })[] = [];
    for (const id of await readdir(this.paths.uploads()).catch(() => [] as string[])) {
      if (!ID_RE.test(id)) continue;
      const dir = this.paths.upload(id);
      const info = await readFile(join(dir, 'info.json'), 'utf8')
        .then((t) => JSON.parse(t) as { repository?: unknown })
        .catch(() => undefined);
      const data = await stat(join(dir, 'data')).catch(() => undefined);
      const modified = data?.mtimeMs ?? (await stat(dir).catch(() => undefined))?.mtimeMs;
      if (modified === undefined) continue;
      // A session being appended to right now counts as fresh, whatever its file says.
      out.push({
        id,
        repository: typeof info?.repository === 'string' ? info.repository : '',
        size: data?.size ?? 0,
        modified: this.busy.has(id) ? Date.now() : modified,
      });
    }
    return out;
  }

  private async drop(id: string): Promise<void> {
    this.running.delete(id);
    await rm(this.paths.upload(id), { recursive: true, force: true });
  }
}

async function hashFile(file: string, algorithm: Algorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
