// What the route handlers share: the request context, body streams, headers and query parsing.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import type { Context } from 'hono';
import { RegistryError } from '../errors.js';
import type { PageRequest, RegistryStorage } from '../storage/types.js';

/** What a request is about, resolved from its path before any handler (or auth middleware) runs. */
export interface RegistryTarget {
  kind: 'base' | 'catalog' | 'blob' | 'uploads' | 'upload' | 'manifest' | 'tags' | 'referrers';
  /** The repository, for everything but base and catalog. */
  name?: string;
  /** The digest, tag or upload id after the route's keyword. */
  ref?: string;
  /** What an authorizer must allow: reading, writing or deleting `name`, or listing the catalog. */
  action: 'pull' | 'push' | 'delete' | 'catalog';
  /**
   * Why the name or ref does not parse (NAME_INVALID, a malformed percent-encoding…): raised only after access
   * control has passed the request, so that a client without access gets its 401 or 403 first. `name` and `ref`
   * then hold the path's raw text.
   */
  invalid?: RegistryError;
}

export type RegistryEnv = {
  Variables: {
    target: RegistryTarget;
    /** Who access control found asking (a Basic user, a token's subject), for the request's log line. */
    user?: string;
  };
};
export type RegistryContext = Context<RegistryEnv>;

export interface RegistryLimits {
  /** Largest manifest accepted, in bytes (the spec asks registries to take at least 4 MiB). */
  manifestBytes: number;
  /** Largest `n` a page of tags or repositories returns. */
  maxPage: number;
}

export const DEFAULT_LIMITS: RegistryLimits = { manifestBytes: 4 * 1024 * 1024, maxPage: 10_000 };

export type Handler = (
  c: RegistryContext,
  r: { storage: RegistryStorage; limits: RegistryLimits; target: RegistryTarget & { name: string } },
) => Promise<Response>;

/** The request body as a node stream: the socket itself under @hono/node-server, else the web stream. */
export function requestBody(c: RegistryContext): Readable {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && typeof incoming.pipe === 'function') return incoming;
  const body = c.req.raw.body;
  return body ? Readable.fromWeb(body as unknown as NodeWebStream<Uint8Array>) : Readable.from([]);
}

/** The whole body, refused with 413 SIZE_INVALID beyond `limit` bytes (before reading, when Content-Length says so). */
export async function readLimited(c: RegistryContext, limit: number, what: string): Promise<Buffer> {
  const tooLarge = () => new RegistryError('SIZE_INVALID', `${what} is larger than the limit of ${limit} bytes`, { status: 413, detail: { limit } });
  const declared = Number(c.req.header('content-length') ?? NaN);
  const stream = requestBody(c);
  if (declared > limit) {
    stream.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      stream.destroy();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function empty(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { 'Content-Length': '0', ...headers } });
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): Response {
  const body = JSON.stringify(value);
  return new Response(body, { status, headers: { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), ...headers } });
}

/** `n` and `last` of a listing; PAGINATION_NUMBER_INVALID for an `n` that is not a whole number. */
export function pageRequest(c: RegistryContext, maxPage: number): PageRequest {
  const nText = c.req.query('n');
  const last = c.req.query('last');
  const page: PageRequest = {};
  if (nText !== undefined && nText !== '') {
    if (!/^\d+$/.test(nText)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `invalid page size n=${nText}`, { detail: { n: nText } });
    page.n = Math.min(Number(nText), maxPage);
  } else page.n = maxPage;
  if (last !== undefined && last !== '') page.last = last;
  return page;
}

/** The Link header for the next page of a listing at `path`. */
export function nextLink(path: string, n: number | undefined, next: string | undefined): Record<string, string> {
  if (next === undefined) return {};
  const q = new URLSearchParams();
  if (n !== undefined) q.set('n', String(n));
  q.set('last', next);
  return { Link: `<${path}?${q.toString()}>; rel="next"` };
}

/** The header every answer carries, as distribution sends it. */
export const API_VERSION = 'registry/2.0';
