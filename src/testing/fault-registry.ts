/**
 * A small registry for fault tests: it serves images held in memory with the distribution API a
 * pull and a push need (`/v2/`, manifests by tag or digest, blobs GET/HEAD with Range, uploads by
 * POST/PATCH/PUT), optionally behind Basic or Bearer auth, and lets a test misbehave on any request
 * through `fault`. Every request is logged (method, path, Range, Authorization, status) so tests can
 * count attempts and see resumes.
 */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { MediaType } from '../oci/mediatypes.js';

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  /** The status answered (0 when a fault dropped the connection before a status). */
  status: number;
}

/**
 * What a fault may do with a request: answer it itself (then return true), or leave it to the
 * registry (return false/undefined). `count` is how many requests with this method and path came
 * before, this one included (1 for the first).
 */
export type Fault = (req: IncomingMessage, res: ServerResponse, ctx: { path: string; count: number; registry: FaultRegistry }) => boolean | undefined | void;

export interface TestImage {
  repository: string;
  tag: string;
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  layers: { digest: string; size: number; bytes: Buffer }[];
}

interface Auth {
  kind: 'basic' | 'bearer';
  username: string;
  password: string;
}

export class FaultRegistry {
  readonly log: LoggedRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  /** repository/tag to manifest digest. */
  readonly tags = new Map<string, string>();
  /** `repository@digest` for each blob a repository holds (a blob is served only where linked). */
  readonly links = new Set<string>();
  /** Blobs whose bytes are served in place of the real ones (same length, other content). */
  readonly corrupt = new Map<string, Buffer>();
  fault: Fault | undefined;
  private readonly uploads = new Map<string, Buffer[]>();
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private server: http.Server | undefined;
  private nextUpload = 1;
  private readonly token = randomBytes(16).toString('hex');
  port = 0;

  constructor(private readonly auth?: Auth) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Adds an image's blobs and manifest and tags it. */
  add(image: TestImage): void {
    for (const [digest, bytes] of [[sha256(image.config), image.config] as const, ...image.layers.map((l) => [l.digest, l.bytes] as const)]) {
      this.blobs.set(digest, bytes);
      this.links.add(`${image.repository}@${digest}`);
    }
    this.manifests.set(image.manifestDigest, { bytes: image.manifest, mediaType: MediaType.OciManifest });
    this.tags.set(`${image.repository}:${image.tag}`, image.manifestDigest);
  }

  /** The requests whose method and path match. */
  requests(method: string, path: string | RegExp): LoggedRequest[] {
    return this.log.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  resetLog(): void {
    this.log.length = 0;
    this.counts.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const path = url.pathname;
    const key = `${req.method} ${path}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    const entry: LoggedRequest = { method: req.method ?? '', path, status: 0 };
    if (typeof req.headers.range === 'string') entry.range = req.headers.range;
    if (typeof req.headers.authorization === 'string') entry.authorization = req.headers.authorization;
    this.log.push(entry);
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      entry.status = status;
      return (writeHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;
    try {
      if (this.fault?.(req, res, { path, count, registry: this })) return;
      this.route(req, res, url);
    } catch (e) {
      if (!res.headersSent) json(res, 500, { errors: [{ code: 'UNKNOWN', message: String(e) }] });
    }
  }

  private authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const a = this.auth;
    if (!a) return true;
    const given = req.headers.authorization ?? '';
    const basic = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    if (a.kind === 'basic' ? given === basic : given === `Bearer ${this.token}`) return true;
    const challenge = a.kind === 'basic' ? 'Basic realm="fault-registry"' : `Bearer realm="http://${this.host}/token",service="fault-registry"`;
    json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'WWW-Authenticate': challenge });
    return false;
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname;
    if (path === '/token' && this.auth?.kind === 'bearer') {
      const basic = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== basic) return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] });
      return json(res, 200, { token: this.token, expires_in: 300 });
    }
    if (!this.authorized(req, res)) return void req.resume();
    if (path === '/v2/' || path === '/v2') return json(res, 200, {});
    let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m) return this.manifest(req, res, m[1]!, m[2]!);
    m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(path);
    if (m) return this.upload(req, res, m[1]!, m[2]!, url);
    m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (m) return this.blob(req, res, m[1]!, m[2]!);
    req.resume();
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'not found' }] });
  }

  private manifest(req: IncomingMessage, res: ServerResponse, repository: string, reference: string): void {
    if (req.method === 'PUT') {
      void readAll(req).then((bytes) => {
        const digest = sha256(bytes);
        this.manifests.set(digest, { bytes, mediaType: String(req.headers['content-type'] ?? MediaType.OciManifest) });
        if (!reference.startsWith('sha256:')) this.tags.set(`${repository}:${reference}`, digest);
        res.writeHead(201, { Location: `/v2/${repository}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
        res.end();
      });
      return;
    }
    req.resume();
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(`${repository}:${reference}`);
    const m = digest ? this.manifests.get(digest) : undefined;
    if (!m || !digest) return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    res.writeHead(200, { 'Content-Type': m.mediaType, 'Content-Length': String(m.bytes.length), 'Docker-Content-Digest': digest });
    res.end(req.method === 'HEAD' ? undefined : m.bytes);
  }

  private blob(req: IncomingMessage, res: ServerResponse, repository: string, digest: string): void {
    req.resume();
    const real = this.links.has(`${repository}@${digest}`) ? this.blobs.get(digest) : undefined;
    if (!real) return json(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] });
    const bytes = this.corrupt.get(digest) ?? real;
    const headers = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && req.method === 'GET') {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      if (start >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        return void res.end();
      }
      res.writeHead(206, { ...headers, 'Content-Length': String(end - start + 1), 'Content-Range': `bytes ${start}-${end}/${bytes.length}` });
      return void res.end(bytes.subarray(start, end + 1));
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(bytes.length) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  private upload(req: IncomingMessage, res: ServerResponse, repository: string, id: string, url: URL): void {
    void readAll(req).then((body) => {
      if (req.method === 'POST' && id === '') {
        const session = String(this.nextUpload++);
        this.uploads.set(session, body.length > 0 ? [body] : []);
        res.writeHead(202, { Location: `/v2/${repository}/blobs/uploads/${session}`, Range: '0-0', 'Content-Length': '0', 'Docker-Upload-UUID': session });
        return void res.end();
      }
      const parts = this.uploads.get(id);
      if (!parts) return json(res, 404, { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'upload unknown' }] });
      if (req.method === 'PATCH') {
        parts.push(body);
        const size = parts.reduce((n, p) => n + p.length, 0);
        res.writeHead(202, { Location: `/v2/${repository}/blobs/uploads/${id}`, Range: `0-${size - 1}`, 'Content-Length': '0' });
        return void res.end();
      }
      if (req.method === 'PUT') {
        parts.push(body);
        const all = Buffer.concat(parts);
        const digest = url.searchParams.get('digest') ?? '';
        if (sha256(all) !== digest) return json(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'digest does not match content' }] });
        this.uploads.delete(id);
        this.blobs.set(digest, all);
        this.links.add(`${repository}@${digest}`);
        res.writeHead(201, { Location: `/v2/${repository}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
        return void res.end();
      }
      if (req.method === 'DELETE') {
        this.uploads.delete(id);
        res.writeHead(204);
        return void res.end();
      }
      json(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
    });
  }
}

function json(res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ...headers });
  res.end(body);
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers with `status` (and headers) for requests matching `when`; returns true when it did. */
export function answer(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string> = {}): true {
  req.resume();
  json(res, status, { errors: [{ code: 'UNKNOWN', message: `injected ${status}` }] }, headers);
  return true;
}

/**
 * Sends the blob's first `bytes` bytes (with the full Content-Length) and then destroys the socket,
 * as a connection dropped mid-download.
 */
export function dropAfter(req: IncomingMessage, res: ServerResponse, blob: Buffer, bytes: number): true {
  req.resume();
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.length) });
  res.write(blob.subarray(0, bytes), () => setTimeout(() => res.socket?.destroy(), 20));
  return true;
}

/**
 * An image made here, not by berth: `layers` layers, each a gzip tar holding one file of random
 * bytes (`sizes[i]` long; random, so the gzip is about as large), and an OCI config and manifest.
 */
export async function makeTestImage(repository: string, tag: string, sizes: number[]): Promise<TestImage> {
  const layers: TestImage['layers'] = [];
  const diffIDs: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const pack = tar.pack();
    pack.entry({ name: `file${i}.bin`, mode: 0o644, mtime: new Date(0) }, randomBytes(size));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const gz = gzipSync(raw, { level: 1 });
    diffIDs.push(sha256(raw));
    layers.push({ digest: sha256(gz), size: gz.length, bytes: gz });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIDs } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: MediaType.OciLayerGzip, digest: l.digest, size: l.size })),
    }),
  );
  return { repository, tag, manifest, manifestDigest: sha256(manifest), config, layers };
}
