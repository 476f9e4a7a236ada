// The registry as a Hono app: every /v2/ request is first resolved to a target (repository, kind,
// reference, action), then passes the configured middleware (where auth will go), then its handler.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { errnoCode, isBerthError } from '../util/errors.js';
import { isRegistryError, RegistryError } from './errors.js';
import { isValidName, nameInvalid } from './names.js';
import { API_VERSION, DEFAULT_LIMITS, json, type Handler, type RegistryEnv, type RegistryLimits, type RegistryTarget } from './routes/_http.js';
import { deleteBlob, getBlob } from './routes/blobs.js';
import { listCatalog, listReferrers, listTags } from './routes/listing.js';
import { deleteManifest, getManifest, putManifest } from './routes/manifests.js';
import { cancelUpload, getUpload, patchUpload, putUpload, startUpload } from './routes/uploads.js';
import type { RegistryStorage } from './storage/types.js';

export type { RegistryEnv, RegistryLimits, RegistryTarget } from './routes/_http.js';

export interface RegistryAppOptions {
  storage: RegistryStorage;
  limits?: Partial<RegistryLimits> | undefined;
  /** Run for every /v2/ request after its target is known (c.var.target) and before its handler: auth goes here. */
  middleware?: MiddlewareHandler<RegistryEnv>[];
  /** Routes outside /v2/, such as the built-in token endpoint. */
  routes?: { path: string; methods: string[]; handler: (c: Context) => Response | Promise<Response> }[];
  /** Told about errors that are not the client's (500s), with the request's context. */
  onInternalError?: (e: unknown, c: Context) => void;
  /** Handlers by `kind METHOD` taking the place of the built-in ones (a pull-through cache's). */
  handlers?: Record<string, Handler>;
}

const ROUTES: [RegExp, RegistryTarget['kind']][] = [
  [/^(.+)\/blobs\/uploads\/?$/, 'uploads'],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, 'upload'],
  [/^(.+)\/blobs\/([^/]+)$/, 'blob'],
  [/^(.+)\/manifests\/([^/]+)$/, 'manifest'],
  [/^(.+)\/tags\/list$/, 'tags'],
  [/^(.+)\/referrers\/([^/]+)$/, 'referrers'],
];

const HANDLERS: Record<string, Handler> = {
  'blob GET': getBlob,
  'blob HEAD': getBlob,
  'blob DELETE': deleteBlob,
  'uploads POST': startUpload,
  'upload PATCH': patchUpload,
  'upload PUT': putUpload,
  'upload GET': getUpload,
  'upload DELETE': cancelUpload,
  'manifest GET': getManifest,
  'manifest HEAD': getManifest,
  'manifest PUT': putManifest,
  'manifest DELETE': deleteManifest,
  'tags GET': listTags,
  'referrers GET': listReferrers,
};

function actionOf(method: string): RegistryTarget['action'] {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' ? 'delete' : 'push';
}

/**
 * What a /v2/ path names; undefined for paths that are not part of the API. A name that breaks the grammar or a
 * ref that does not percent-decode leaves its error in `invalid`, for the handler to raise after access control.
 */
export function resolveTarget(method: string, pathname: string): RegistryTarget | undefined {
  if (pathname === '/v2') return { kind: 'base', action: 'pull' };
  if (!pathname.startsWith('/v2/')) return undefined;
  const rest = pathname.slice(4);
  if (rest === '') return { kind: 'base', action: 'pull' };
  if (rest === '_catalog') return { kind: 'catalog', action: 'catalog' };
  for (const [re, kind] of ROUTES) {
    const m = re.exec(rest);
    if (!m) continue;
    const name = m[1]!;
    const target: RegistryTarget = { kind, name, action: actionOf(method) };
    if (!isValidName(name)) target.invalid = nameInvalid(name);
    if (m[2] !== undefined) {
      const ref = percentDecode(m[2]);
      target.ref = ref ?? m[2];
      if (ref === undefined) target.invalid ??= undecodableRef(kind, m[2]);
    }
    return target;
  }
  return undefined;
}

/** decodeURIComponent, or undefined for a malformed escape (`%zz`, a cut-off UTF-8 sequence). */
function percentDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The 400 for a ref that does not percent-decode, in the code a bad value of that path part gets. */
function undecodableRef(kind: RegistryTarget['kind'], raw: string): RegistryError {
  const message = `malformed percent-encoding in "${raw}"`;
  if (kind === 'upload') return new RegistryError('BLOB_UPLOAD_INVALID', `invalid upload id: ${message}`, { detail: { uuid: raw } });
  // A manifest's ref is a digest when it has a colon (parseReference), else a tag.
  if (kind === 'manifest' && !/:|%3a/i.test(raw)) return new RegistryError('MANIFEST_INVALID', `invalid tag: ${message}`, { detail: { tag: raw } });
  return new RegistryError('DIGEST_INVALID', `invalid digest: ${message}`, { detail: { digest: raw } });
}

function errorResponse(e: RegistryError): Response {
  const body = e.body();
  const headers: Record<string, string> = { ...e.headers, 'Content-Length': String(Buffer.byteLength(body)) };
  if (body !== '') headers['Content-Type'] = 'application/json';
  return new Response(body === '' ? null : body, { status: e.status, headers });
}

export function createRegistryApp(opts: RegistryAppOptions): Hono<RegistryEnv> {
  const limits: RegistryLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { storage } = opts;
  const app = new Hono<RegistryEnv>();

  app.onError((e, c) => {
    if (isRegistryError(e)) return errorResponse(e);
    if (isBerthError(e, 'DIGEST_INVALID')) return errorResponse(new RegistryError('DIGEST_INVALID', e.message));
    // The client went away mid-body: nobody reads the answer, and it is not the server's fault.
    if (['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED'].includes(errnoCode(e) ?? '')) {
      return errorResponse(new RegistryError('BLOB_UPLOAD_INVALID', 'the request body was cut off'));
    }
    opts.onInternalError?.(e, c);
    return json(500, { errors: [{ code: 'UNKNOWN', message: 'internal server error' }] });
  });
  app.notFound(() => json(404, { errors: [{ code: 'NOT_FOUND', message: 'no such API endpoint' }] }));

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Docker-Distribution-API-Version', API_VERSION);
  });
  for (const r of opts.routes ?? []) app.on(r.methods, r.path, (c) => r.handler(c));
  app.use('/v2/*', async (c, next) => {
    const target = resolveTarget(c.req.method, new URL(c.req.url).pathname);
    if (!target) return c.notFound();
    c.set('target', target);
    await next();
  });
  for (const m of opts.middleware ?? []) app.use('/v2/*', m);

  app.all('/v2/*', async (c) => {
    const target = c.var.target;
    if (target.invalid) throw target.invalid;
    if (target.kind === 'base') return json(200, {});
    if (target.kind === 'catalog') {
      if (c.req.method !== 'GET') throw unsupported(c.req.method, target);
      return listCatalog(c, storage, limits);
    }
    const handler = opts.handlers?.[`${target.kind} ${c.req.method}`] ?? HANDLERS[`${target.kind} ${c.req.method}`];
    if (!handler) throw unsupported(c.req.method, target);
    return handler(c, { storage, limits, target: target as RegistryTarget & { name: string } });
  });
  return app;
}

function unsupported(method: string, target: RegistryTarget): RegistryError {
  return new RegistryError('UNSUPPORTED', `${method} is not supported on ${target.kind}`, { headers: {} });
}
