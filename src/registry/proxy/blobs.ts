// Blobs of a pull-through cache. A blob the storage lacks is fetched from the upstream once, however many
// clients ask at the same time: the first one's response streams the bytes as they go into an upload
// session, the others wait for that fetch and are then served from the storage. The upload verifies the
// digest before the blob becomes visible, so a broken or wrong upstream body leaves nothing behind; the
// streaming client gets its last chunk only after that check, so it never sees a whole wrong blob.
import type { ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { isRegistryError, RegistryError } from '../errors.js';
import { checkDigest } from '../names.js';
import { getBlob } from '../routes/blobs.js';
import { API_VERSION, type Handler } from '../routes/_http.js';
import type { RegistryStorage } from '../storage/types.js';
import type { SingleFlight } from './_single-flight.js';
import { unreachable, upstreamError, type Upstream } from './upstream.js';

/** Where a fetch streams the blob as it arrives: a client's response. */
export interface BlobSink {
  /** The upstream answered with the blob (of `size` bytes, when it said). */
  open(size: number | undefined): void;
  /** Resolves when the next chunk may come (the client took this one, or left). */
  write(chunk: Buffer): Promise<void>;
  /** The blob is stored and verified. */
  end(): void;
  /** The fetch failed after open(): the client must not take what it got for the blob. */
  fail(): void;
}

function unknownBlob(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the repository`, { detail: { digest } });
}

function blobHeaders(digest: string): Record<string, string> {
  return {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
    'Docker-Distribution-API-Version': API_VERSION,
  };
}

/**
 * How long a streaming client may take no bytes before it is dropped: the fetch waits for it (so that a slow
 * client does not make the registry buffer the blob), but must not stall for the others waiting on it.
 */
const STALL_MS = 10_000;

/** A sink writing to a Node response, one chunk behind: the last one goes out only with end(). */
export function responseSink(out: ServerResponse, digest: string): BlobSink {
  let held: Buffer | undefined;
  let gone = false;
  out.once('close', () => (gone = true));
  return {
    open(size) {
      out.writeHead(200, { ...blobHeaders(digest), ...(size === undefined ? {} : { 'Content-Length': String(size) }) });
    },
    write(chunk) {
      const previous = held;
      held = chunk;
      if (previous === undefined || gone || out.write(previous)) return Promise.resolve();
      return new Promise((resolve) => {
        const stalled = setTimeout(() => {
          gone = true;
          out.destroy();
        }, STALL_MS);
        const go = () => {
          clearTimeout(stalled);
          out.off('drain', go);
          out.off('close', go);
          resolve();
        };
        out.once('drain', go);
        out.once('close', go);
      });
    },
    end() {
      if (gone) return;
      if (held !== undefined) out.write(held);
      out.end();
    },
    fail() {
      out.destroy();
    },
  };
}

export class BlobFetcher {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly upstream: Upstream,
    private readonly flights: SingleFlight,
  ) {}

  /**
   * Stores `digest` from the upstream, linked into `repository`. If a fetch of it for that repository is
   * running already, this joins it (`joined`, the sink unused); else it starts one that streams to `sink`.
   * `streaming` settles when the upstream has answered: true once the sink is open and the blob coming,
   * false without a sink or when the blob was stored meanwhile (by a fetch that ended just before),
   * rejected on failure.
   * (Per repository: that the upstream serves a blob in one repository says nothing of another.)
   */
  fetch(repository: string, digest: string, sink?: BlobSink): { joined: boolean; streaming: Promise<boolean>; done: Promise<void> } {
    let opened!: () => void;
    const openedPromise = new Promise<boolean>((resolve) => (opened = () => resolve(true)));
    const { joined, result } = this.flights.run(`blob ${repository}@${digest}`, () => this.fetchOnce(repository, digest, sink, opened));
    // Settled by whichever comes first: the upstream's answer, or the end of the fetch.
    const streaming = sink && !joined ? Promise.race([openedPromise, result.then(() => false)]) : Promise.resolve(false);
    return { joined, streaming, done: result };
  }

  private async fetchOnce(repository: string, digest: string, sink: BlobSink | undefined, opened: () => void): Promise<void> {
    if (await this.storage.links.stat(repository, digest)) return;
    const origin = this.upstream.origin;
    let res;
    try {
      res = await this.upstream.request('GET', repository, `${repository}/blobs/${digest}`);
    } catch (e) {
      throw unreachable(`upstream ${origin}`, e);
    }
    if (res.status !== 200) throw await upstreamError(origin, res, unknownBlob(digest));
    let upload;
    try {
      upload = await this.storage.uploads.create(repository);
    } catch (e) {
      res.body.destroy();
      throw e;
    }
    const length = Number(res.headers['content-length']);
    sink?.open(Number.isSafeInteger(length) ? length : undefined);
    opened();
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (!sink) return callback(null, chunk);
        sink.write(chunk).then(() => callback(null, chunk), callback);
      },
    });
    const piping = pipeline(res.body, tap);
    piping.catch(() => undefined); // awaited below; append sees the same failure meanwhile
    try {
      await this.storage.uploads.append(repository, upload.id, 0, tap);
      await piping;
      await this.storage.uploads.finish(repository, upload.id, digest);
    } catch (e) {
      tap.destroy();
      res.body.destroy();
      await this.storage.uploads.cancel(repository, upload.id).catch(() => undefined);
      sink?.fail();
      if (isRegistryError(e, 'DIGEST_INVALID'))
        throw new RegistryError('UNAVAILABLE', `upstream ${origin} sent content for ${digest} that does not match it`, { cause: e });
      if (isRegistryError(e)) throw e;
      throw unreachable(`upstream ${origin} (while sending ${digest})`, e);
    }
    sink?.end();
  }
}

/**
 * GET and HEAD of a blob: the storage's, else the upstream's (a HEAD only asks it, a GET fetches and keeps
 * it). A blob stored for another repository is linked once the upstream says this repository has it too,
 * so that knowing a digest gives no one a blob of a repository they cannot read upstream.
 */
export function proxyGetBlob(fetcher: BlobFetcher, upstream: Upstream): Handler {
  return async (c, r) => {
    const { storage, target } = r;
    const digest = checkDigest(target.ref!);
    if (!(await storage.links.stat(target.name, digest))) {
      if (await storage.blobs.stat(digest)) {
        await statUpstream(upstream, target.name, digest);
        await storage.links.link(target.name, digest);
      } else if (c.req.method === 'HEAD') {
        const length = await statUpstream(upstream, target.name, digest);
        const { 'Docker-Distribution-API-Version': _version, ...headers } = blobHeaders(digest);
        return new Response(null, { status: 200, headers: { ...headers, ...(length === undefined ? {} : { 'Content-Length': length }) } });
      } else {
        // A ranged GET waits for the whole blob and is then answered from the storage.
        const outgoing = c.req.header('range') === undefined ? (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing : undefined;
        const fetch = fetcher.fetch(target.name, digest, outgoing && responseSink(outgoing, digest));
        if (await fetch.streaming) {
          fetch.done.catch(() => undefined); // the response carries a failure from here on
          return RESPONSE_ALREADY_SENT;
        }
        await fetch.done;
        if (!(await storage.links.stat(target.name, digest))) await storage.links.link(target.name, digest);
      }
    }
    return getBlob(c, r);
  };
}

/** The blob's size as the upstream gives it, after a HEAD that must find it in the repository. */
async function statUpstream(upstream: Upstream, repository: string, digest: string): Promise<string | undefined> {
  let res;
  try {
    res = await upstream.request('HEAD', repository, `${repository}/blobs/${digest}`);
  } catch (e) {
    throw unreachable(`upstream ${upstream.origin}`, e);
  }
  if (res.status !== 200) throw await upstreamError(upstream.origin, res, unknownBlob(digest));
  res.body.resume();
  return res.headers['content-length'];
}
