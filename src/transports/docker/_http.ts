/**
 * The HTTP layer of the registry client: one request over node:http/https (TLS settings per
 * registry, redirects followed for GET/HEAD), retries with backoff for idempotent requests, and the
 * registry's error bodies turned into one-line BerthErrors.
 */
import type * as http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, errnoCode } from '../../util/errors.js';

// node:http is loaded with require(), not imported: an ES import of a builtin reads every export
// to build its module facade, and node:http's WebSocket getter loads Node's bundled undici, about
// 30 ms of CPU (Node 24.22) that every pull paid and none uses.
const nodeHttp = createRequire(import.meta.url)('node:http') as typeof http;

export interface TlsSettings {
  /** Check the server's certificate (false: --tls-verify=false or an insecure registry). */
  verify: boolean;
  /** Extra CAs (added to Node's roots). */
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
}

export interface RetryPolicy {
  /** Tries in all, the first included. Default 4. */
  attempts: number;
  /** First backoff; doubled each time. Default 250 ms. */
  baseDelayMs: number;
  /** Cap on one wait (also caps Retry-After). Default 5 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5000 };

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer is sent as is; a function opens a stream (sent with `Content-Length` when given in headers). */
  body?: Buffer | (() => Readable);
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Where the response came from, after redirects. */
  url: URL;
  /** Set by the client on a 401 to a request that carried credentials: they were refused. */
  credentialsRefused?: boolean;
}

/** Status codes worth another try (as ofetch and containers/image retry). */
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Network failures worth another try. */
const RETRY_ERRNO = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function isRetriableError(e: unknown): boolean {
  if (e instanceof BerthError) return e.temporary;
  const code = errnoCode(e);
  return (code !== undefined && RETRY_ERRNO.has(code)) || (e instanceof Error && /^(aborted|socket hang up)$/.test(e.message));
}

/** What went wrong on the network, in words (Node's own messages name only the errno). */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EPIPE: 'broken pipe',
};

/**
 * A failed request as one line: `GET https://host/v2/: dial tcp host:port: connection refused`, as
 * podman words it; other errors (TLS, protocol) keep Node's message.
 */
export function networkErrorMessage(e: unknown, method: string, url: URL): string {
  const code = errnoCode(e);
  const words = code ? NETWORK_WORDS[code] : undefined;
  const where = `${method} ${url.origin}${url.pathname}`;
  if (!words) return `${where}: ${(e as Error).message}`;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${where}: lookup ${url.hostname}: ${words}`;
  // Refusals and unreachable hosts happen while connecting; a reset or broken pipe mid-transfer does not.
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${where}: dial tcp ${url.hostname}:${port}: ${words}`;
  return `${where}: ${words}`;
}

/** A connection on which nothing moves for this long is given up (and a download resumed). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * One agent per TLS setting, so connections are kept alive across a pull's many requests. A socket
 * idle for `idleTimeoutMs` (no byte either way: a stalled server) fails its request with ETIMEDOUT.
 */
export function makeAgents(tls: TlsSettings, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS): { http: http.Agent; https: https.Agent } {
  return {
    http: new nodeHttp.Agent({ keepAlive: true, maxSockets: 16, timeout: idleTimeoutMs }),
    https: new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      timeout: idleTimeoutMs,
      rejectUnauthorized: tls.verify,
      // A custom CA adds to Node's bundled roots instead of replacing them. Unverified, no CA is
      // read at all: Node would otherwise load its ~140 roots for the first connection (2-8 ms).
      ...(!tls.verify ? { ca: [] } : tls.ca && tls.ca.length > 0 ? { ca: [...rootCertificates, ...tls.ca.map((b) => b.toString('utf8'))] } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
    }),
  };
}

const MAX_REDIRECTS = 5;

/** Sends one request; GET and HEAD follow redirects (dropping Authorization when the host changes). */
export async function send(agents: { http: http.Agent; https: https.Agent }, req: HttpRequest): Promise<HttpResponse> {
  let url = req.url;
  let headers = { ...req.headers };
  for (let hops = 0; ; hops++) {
    const res = await sendOnce(agents, { ...req, url, headers });
    const location = res.headers.location;
    if (!(req.method === 'GET' || req.method === 'HEAD') || ![301, 302, 303, 307, 308].includes(res.status) || !location || hops >= MAX_REDIRECTS) return res;
    res.body.resume();
    const next = new URL(location, url);
    if (next.host !== url.host) {
      headers = { ...headers };
      delete headers['Authorization'];
    }
    url = next;
  }
}

function sendOnce(agents: { http: http.Agent; https: https.Agent }, req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const secure = req.url.protocol === 'https:';
    const headers: Record<string, string> = { 'User-Agent': 'berth/0.1', ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
    else if (req.body === undefined && ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['Content-Length'] = '0';
    const options = { method: req.method, headers, agent: secure ? agents.https : agents.http };
    const r = (secure ? https : nodeHttp).request(req.url, options, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url }),
    );
    // A network failure becomes one line naming the request; a body stream's own BerthError passes through.
    r.on('timeout', () => r.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })));
    r.on('error', (e) =>
      reject(e instanceof BerthError ? e : new BerthError('IO', networkErrorMessage(e, req.method, req.url), { cause: e, temporary: isRetriableError(e) })),
    );
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      const body = req.body();
      body.on('error', (e) => r.destroy(e));
      body.pipe(r);
    }
  });
}

/**
 * Runs `attempt` until it gives a response that is not a temporary failure (408, 429, 5xx) and does
 * not throw a network error, waiting with exponential backoff (or Retry-After) in between.
 */
export async function withRetry(policy: RetryPolicy, attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
  for (let i = 1; ; i++) {
    let res: HttpResponse;
    try {
      res = await attempt();
    } catch (e) {
      if (i >= policy.attempts || !isRetriableError(e)) throw e;
      await sleep(backoff(policy, i));
      continue;
    }
    if (!RETRY_STATUS.has(res.status) || i >= policy.attempts) return res;
    res.body.resume();
    const after = retryAfterMs(res.headers['retry-after']);
    await sleep(after !== undefined ? Math.min(after, policy.maxDelayMs) : backoff(policy, i));
  }
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export function backoff(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

/** Reads a (small) response body whole, at most `limit` bytes. */
export async function readBody(res: HttpResponse, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new BerthError('IO', `${res.url.host}: response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(header: string | undefined, base: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?(\s*;|\s*$)/i.test(m[2]!)) return new URL(m[1]!, base);
  }
  return undefined;
}

/**
 * The registry's complaint as one line: the distribution-spec error body's first message (and code),
 * else the HTTP status. 401/403 become UNAUTHORIZED, 404 IMAGE_UNKNOWN, 5xx temporary IO.
 */
export async function registryError(res: HttpResponse, what: string): Promise<BerthError> {
  let detail = '';
  let code = '';
  try {
    const text = (await readBody(res, 64 * 1024)).toString('utf8');
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = doc.errors?.[0];
    code = first?.code ?? '';
    if (first) detail = first.message ? first.message : (first.code ?? '').toLowerCase().replace(/_/g, ' ');
    if (first?.code === 'UNAUTHORIZED' || first?.code === 'DENIED')
      detail = `${first.code === 'DENIED' ? 'denied' : 'unauthorized'}: ${first.message ?? 'access denied'}`;
  } catch {
    res.body.destroy();
  }
  if (!detail) detail = `${res.status} ${nodeHttp.STATUS_CODES[res.status] ?? ''}`.trim();
  if (res.status === 401) {
    if (!/^unauthorized/.test(detail)) detail = `unauthorized: ${detail}`;
    if (res.credentialsRefused) detail = `invalid username/password: ${detail}`;
    return new BerthError('UNAUTHORIZED', `${what}: ${detail}`);
  }
  if (res.status === 403) return new BerthError('UNAUTHORIZED', `${what}: ${/^denied/.test(detail) ? detail : `denied: ${detail}`}`);
  if (res.status === 404) return new BerthError('IMAGE_UNKNOWN', `${what}: ${detail}`);
  // A manifest the registry will not take: the writer may try the other format.
  if (res.status === 415 || code === 'UNSUPPORTED') return new BerthError('MANIFEST_UNSUPPORTED', `${what}: ${detail}`);
  if (code === 'MANIFEST_INVALID') return new BerthError('MANIFEST_INVALID', `${what}: ${detail}`);
  return new BerthError('IO', `${what}: ${detail}`, { temporary: res.status >= 500 || res.status === 429 });
}

/** A stream of exactly the bytes given, for bodies that must be replayable. */
export function bufferStream(b: Buffer): () => Readable {
  return () => Readable.from([b]);
}
