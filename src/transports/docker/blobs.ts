/**
 * Blob transfers: downloads streamed and verified while they stream, resumed with `Range` when the
 * connection breaks; uploads that skip what the registry has, mount from a sibling repository, go
 * monolithic (POST then PUT) when small and in streamed PATCH chunks when large.
 */
import { createStreamHash } from '../../util/hash.js';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDigest } from '../../oci/digest.js';
import { BerthError } from '../../util/errors.js';
import { MaxBytes, tooLargeError } from '../../util/read-limits.js';
import { repositoryScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { backoff, DEFAULT_RETRY, isRetriableError, registryError, type HttpResponse, type RetryPolicy } from './_http.js';

/** Runs `fn`, putting `what` in front of any error that does not already say it (a network failure names only its URL). */
async function saying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BerthError && e.message.startsWith(what)) throw e;
    throw new BerthError(e instanceof BerthError ? e.code : 'IO', `${what}: ${(e as Error).message}`, { cause: e, temporary: isRetriableError(e) });
  }
}

/** A resumed download that got this far since its last break is not counted against the retry limit. */
const RESUME_PROGRESS = 1024 * 1024;

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * Opens a blob as a stream that checks its digest (and size, when given) as it ends: a mismatch is
 * a stream error, so nothing downstream takes it. A broken connection is resumed from the byte
 * reached with a `Range` request (a registry that ignores Range is an error, not a restart). Breaks
 * count against the retry policy's attempts only while under 1 MiB arrives between them.
 */
export async function openBlob(
  client: RegistryClient,
  repository: string,
  digest: string,
  size?: number,
  retry: RetryPolicy = DEFAULT_RETRY,
  opts: { verify?: boolean } = {},
): Promise<Readable> {
  // `verify: false`: the reader checks the digest itself (transports/copy's copyImage does), so it is hashed once.
  const verify = opts.verify ?? true;
  const what = `reading blob ${digest} in ${client.registry}/${repository}`;
  const path = `/v2/${repository}/blobs/${digest}`;
  const scopes = [client.scope(repository)];
  const first = await saying(what, () => client.request('GET', path, { scopes, retry: true }));
  if (first.status !== 200) throw await registryError(first, what);
  const algorithm = parseDigest(digest).algorithm;

  async function* body(): AsyncGenerator<Buffer> {
    const hash = createStreamHash(algorithm);
    let offset = 0;
    let res: HttpResponse = first;
    let failures = 0;
    let lastBreak = 0;
    for (;;) {
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          if (verify) hash.update(chunk);
          offset += chunk.length;
          if (size !== undefined && offset > size) throw new BerthError('SIZE_MISMATCH', `${what}: more than the ${size} bytes its descriptor gives`);
          yield chunk;
        }
        if (size !== undefined && offset < size) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        break;
      } catch (e) {
        // As containers/image's body reader: a connection that keeps breaking but keeps making progress is resumed again.
        if (offset - lastBreak >= RESUME_PROGRESS) failures = 0;
        lastBreak = offset;
        if (!isRetriableError(e) || ++failures >= retry.attempts)
          throw e instanceof BerthError ? e : new BerthError('IO', `${what}: ${(e as Error).message}`, { cause: e });
        res.body.destroy();
        await sleep(backoff(retry, failures));
        res = await client.request('GET', path, { scopes, headers: { Range: `bytes=${offset}-` }, retry: true });
        if (res.status !== 206) {
          res.body.destroy();
          throw new BerthError(
            'IO',
            `${what}: the connection broke at byte ${offset} and the registry cannot resume (status ${res.status} to a Range request)`,
          );
        }
        // A 206 from elsewhere than asked (a proxy's idea of the range) would splice wrong bytes in.
        const from = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (from && Number(from[1]) !== offset) {
          res.body.destroy();
          throw new BerthError('IO', `${what}: the connection broke at byte ${offset} and the registry resumed at byte ${from[1]} instead`);
        }
      }
    }
    if (!verify) return;
    const got = `${algorithm}:${hash.hex()}`;
    if (got !== digest) throw new BerthError('DIGEST_MISMATCH', `${what}: the blob does not match its digest (got ${got})`);
  }
  return Readable.from(body(), { objectMode: false });
}

/**
 * Reads a small blob (a config) whole, verified; one over `max` bytes is refused: by its
 * descriptor's size before any request, or (no size given) once that many bytes have come.
 */
export async function readBlob(client: RegistryClient, repository: string, digest: string, size?: number, max: number = MaxBytes.config): Promise<Buffer> {
  const what = `${client.registry}/${repository}: image config ${digest}`;
  if (size !== undefined && size > max) throw tooLargeError(what, size, max);
  const chunks: Buffer[] = [];
  let total = 0;
  const body = await openBlob(client, repository, digest, size);
  for await (const c of body) {
    total += (c as Buffer).length;
    if (total > max) {
      body.destroy();
      throw tooLargeError(what, undefined, max);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** HEAD of a blob: whether the repository has it. */
export async function blobExists(client: RegistryClient, repository: string, digest: string): Promise<boolean> {
  const what = `checking blob ${digest} in ${client.registry}/${repository}`;
  const res = await saying(what, () => client.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scopes: [client.scope(repository)], retry: true }));
  res.body.resume();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await registryError(res, what);
}

/**
 * Cross-repository mount (`POST ?mount=&from=`): true when the registry linked the blob. A registry
 * that cannot mount opens an upload session instead, which is cancelled here.
 */
export async function mountBlob(client: RegistryClient, repository: string, digest: string, from: string): Promise<boolean> {
  const q = new URLSearchParams({ mount: digest, from });
  const res = await client.request('POST', `/v2/${repository}/blobs/uploads/?${q}`, {
    scopes: [client.scope(repository, true), repositoryScope(from, ['pull'])],
  });
  res.body.resume();
  if (res.status === 201) return true;
  if (res.status === 202 && res.headers.location) {
    const cancel = await client.request('DELETE', new URL(res.headers.location, res.url), { scopes: [client.scope(repository, true)] }).catch(() => undefined);
    cancel?.body.resume();
    return false;
  }
  if (res.status === 401 || res.status === 403 || res.status === 404) return false;
  throw await registryError(res, `mounting blob ${digest} from ${from} into ${client.registry}/${repository}`);
}

export interface UploadOptions {
  /** Blobs larger than this go in PATCH chunks of this size. Default 16 MiB. */
  chunkSize?: number;
}

/**
 * Uploads a blob of known digest and size from a stream: POST opens a session, then one PUT with
 * the whole body (small blobs) or PATCH chunks (each streamed with its Content-Range) and a closing
 * PUT. The registry checks the digest.
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  desc: { digest: string; size: number },
  source: Readable,
  opts: UploadOptions = {},
): Promise<void> {
  const what = `writing blob ${desc.digest} to ${client.registry}/${repository}`;
  return saying(what, () => upload(client, repository, desc, source, what, opts));
}

async function upload(
  client: RegistryClient,
  repository: string,
  desc: { digest: string; size: number },
  source: Readable,
  what: string,
  opts: UploadOptions,
): Promise<void> {
  const scopes = [client.scope(repository, true)];
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const start = await client.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes });
  if (start.status !== 202 || !start.headers.location) throw await registryError(start, what);
  start.body.resume();
  let location = new URL(start.headers.location, start.url);
  const octets = { 'Content-Type': 'application/octet-stream' };

  if (desc.size <= chunkSize) {
    const res = await client.request('PUT', withDigest(location, desc.digest), {
      scopes,
      headers: { ...octets, 'Content-Length': String(desc.size) },
      stream: () => source,
    });
    if (res.status !== 201) throw await registryError(res, what);
    res.body.resume();
    return;
  }
  const take = byteTaker(source);
  for (let offset = 0; offset < desc.size; ) {
    const length = Math.min(chunkSize, desc.size - offset);
    const res = await client.request('PATCH', location, {
      scopes,
      headers: { ...octets, 'Content-Length': String(length), 'Content-Range': `${offset}-${offset + length - 1}` },
      stream: () => Readable.from(take(length)),
    });
    if (res.status !== 202) throw await registryError(res, `${what} (chunk at ${offset})`);
    res.body.resume();
    if (res.headers.location) location = new URL(res.headers.location, res.url);
    offset += length;
  }
  if (!(await take.atEnd())) throw new BerthError('SIZE_MISMATCH', `${what}: the blob is larger than its descriptor's ${desc.size} bytes`);
  const res = await client.request('PUT', withDigest(location, desc.digest), { scopes });
  if (res.status !== 201) throw await registryError(res, what);
  res.body.resume();
}

function withDigest(location: URL, digest: string): URL {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u;
}

/** Hands out a stream's bytes in runs of exact lengths, pulling only as the runs are read. */
function byteTaker(source: Readable): ((n: number) => AsyncGenerator<Buffer>) & { atEnd: () => Promise<boolean> } {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let leftover: Buffer | undefined;
  const take = async function* (n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      let chunk = leftover;
      leftover = undefined;
      if (!chunk) {
        const next = await it.next();
        if (next.done) throw new BerthError('SIZE_MISMATCH', `the blob ended ${left} bytes short of its descriptor's size`);
        chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      }
      if (chunk.length > left) {
        leftover = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      yield chunk;
    }
  };
  return Object.assign(take, {
    atEnd: async () => {
      if (leftover && leftover.length > 0) return false;
      const next = await it.next();
      return next.done === true || (next.value as Buffer).length === 0;
    },
  });
}
