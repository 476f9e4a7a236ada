/**
 * A distribution-spec v1.1 client for one registry: the `/v2/` ping that picks HTTPS (or HTTP when
 * allowed) and learns the auth challenge, authenticated requests with retries, and the manifest and
 * tag operations. Blob transfers are in blobs.ts, over `request()`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { getCredentials, type Credentials } from '../../config/auth.js';
import { findRegistry, type RegistriesConf } from '../../config/registries.js';
import { digestOf, isDigest, parseDigest } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import type { ManifestBlob } from '../../image/image.js';
import { MaxBytes, tooLargeError } from '../../util/read-limits.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { Authenticator, repositoryScope } from './auth.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_RETRY,
  makeAgents,
  nextLink,
  readBody,
  registryError,
  send,
  withRetry,
  type HttpResponse,
  type RetryPolicy,
  type TlsSettings,
} from './_http.js';

export interface RegistryOptions {
  /** --tls-verify: false skips certificate checks and allows HTTP; undefined follows registries.conf. */
  tlsVerify?: boolean;
  /** --cert-dir: *.crt CAs and *.cert/*.key client pairs (default /etc/containers/certs.d/HOST and friends). */
  certDir?: string;
  /** --authfile */
  authfile?: string;
  /** --creds: used instead of any stored credentials (an identity token, as the Docker API's X-Registry-Auth carries, for a token server's refresh_token grant). */
  creds?: { username: string; password: string; identityToken?: string };
  /** registries.conf: insecure registries and credential helpers. */
  registriesConf?: RegistriesConf;
  /** Ask for `pull,push` on the repositories this client touches (one token for a whole push). */
  push?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Give up a connection idle this long (default $BERTH_REGISTRY_IDLE_TIMEOUT seconds, else 120 s). */
  idleTimeoutMs?: number;
  env?: Record<string, string | undefined>;
}

/** The manifest types berth reads, best first (schema 1 is not asked for: it is refused). */
export const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList].join(', ');

export interface RequestOptions {
  /** The repositories and actions the request needs (for a bearer token). */
  scopes?: string[];
  headers?: Record<string, string>;
  body?: Buffer;
  /** A stream factory for uploads: never replayed after a 401 or retried. */
  stream?: () => import('node:stream').Readable;
  /** Retry 429/5xx and network failures (idempotent requests only). */
  retry?: boolean;
}

/** The host the API of a registry name lives on (docker.io's is registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || /^127\./.test(name) || name === '::1';
}

/** podman's cert-dir reading: every *.crt is a CA, each *.cert with its *.key a client certificate. */
export async function loadCertDir(dir: string): Promise<Pick<TlsSettings, 'ca' | 'cert' | 'key'>> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return {};
    throw new BerthError('IO', `reading certificates in ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const out: Pick<TlsSettings, 'ca' | 'cert' | 'key'> = {};
  const ca: Buffer[] = [];
  for (const name of names) {
    if (name.endsWith('.crt')) ca.push(await readFile(join(dir, name)));
    if (name.endsWith('.cert')) {
      const key = `${name.slice(0, -5)}.key`;
      if (!names.includes(key)) throw new BerthError('USAGE', `missing key ${key} for client certificate ${join(dir, name)}`);
      out.cert = await readFile(join(dir, name));
      out.key = await readFile(join(dir, key));
    }
    if (name.endsWith('.key') && !names.includes(`${name.slice(0, -4)}.cert`)) {
      throw new BerthError('USAGE', `missing client certificate ${name.slice(0, -4)}.cert for key ${join(dir, name)}`);
    }
  }
  if (ca.length > 0) out.ca = ca;
  return out;
}

function defaultCertDirs(registry: string, env: Record<string, string | undefined>): string[] {
  const home = env['HOME'] || homedir();
  return [
    join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'containers', 'certs.d', registry),
    join('/etc/containers/certs.d', registry),
    join('/etc/docker/certs.d', registry),
  ];
}

/** One registry, as seen by one command: its endpoint, TLS, credentials and tokens. */
export class RegistryClient {
  private base: URL | undefined;
  private pinging: Promise<void> | undefined;

  private constructor(
    /** host[:port] as references name it. */
    readonly registry: string,
    private readonly agents: ReturnType<typeof makeAgents>,
    private readonly allowHttp: boolean,
    readonly auth: Authenticator,
    private readonly retryPolicy: RetryPolicy,
    private readonly push: boolean,
  ) {}

  /** Sets a client up (reads TLS files and credentials; no network yet). `credentialKey` defaults to the registry. */
  static async open(registry: string, opts: RegistryOptions = {}, credentialKey = registry): Promise<RegistryClient> {
    const env = opts.env ?? process.env;
    const conf = opts.registriesConf;
    const confInsecure = conf ? (findRegistry(conf, registry)?.insecure ?? false) : false;
    const verify = opts.tlsVerify ?? !confInsecure;
    let files: Pick<TlsSettings, 'ca' | 'cert' | 'key'> = {};
    for (const dir of opts.certDir ? [opts.certDir] : defaultCertDirs(registry, env)) {
      files = await loadCertDir(dir);
      if (files.ca || files.cert) break;
    }
    const idleSeconds = Number(env['BERTH_REGISTRY_IDLE_TIMEOUT']);
    const idle = opts.idleTimeoutMs ?? (Number.isFinite(idleSeconds) && idleSeconds > 0 ? idleSeconds * 1000 : DEFAULT_IDLE_TIMEOUT_MS);
    const agents = makeAgents({ verify, ...files }, idle);
    const creds: Credentials | undefined = opts.creds
      ? { identityToken: '', ...opts.creds }
      : await getCredentials(credentialKey, {
          env,
          ...(opts.authfile ? { authfile: opts.authfile } : {}),
          ...(conf ? { credentialHelpers: conf.credentialHelpers } : {}),
        });
    const retry = { ...DEFAULT_RETRY, ...opts.retry };
    const client: RegistryClient = new RegistryClient(
      registry,
      agents,
      opts.tlsVerify === false || confInsecure || isLoopback(registry),
      new Authenticator(registry, creds, async (req) => {
        const res = await withRetry(retry, () =>
          send(agents, req.body ? { ...req, body: req.body } : { method: req.method, url: req.url, headers: req.headers }),
        );
        return { status: res.status, body: await readBody(res, 1024 * 1024) };
      }),
      retry,
      opts.push ?? false,
    );
    return client;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The scopes for `repository`: pull, or pull and push for a pushing client. */
  scope(repository: string, push = this.push): string {
    return repositoryScope(repository, push ? ['pull', 'push'] : ['pull']);
  }

  /** `/v2/`: picks the scheme (HTTPS; HTTP only when allowed and HTTPS fails) and learns the challenge. */
  ping(): Promise<void> {
    this.pinging ??= this.doPing().catch((e: unknown) => {
      this.pinging = undefined;
      throw e;
    });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const host = apiHost(this.registry);
    let first: unknown;
    for (const scheme of this.allowHttp ? ['https', 'http'] : ['https']) {
      const url = new URL(`${scheme}://${host}/v2/`);
      try {
        const res = await withRetry(this.retryPolicy, () => send(this.agents, { method: 'GET', url }));
        res.body.resume();
        if (res.status === 401) this.auth.setChallenge(res.headers['www-authenticate']);
        else if (res.status !== 200)
          throw new BerthError('IO', `pinging container registry ${this.registry}: ${url.href} answered ${res.status}: not a distribution registry`);
        this.base = new URL(`${scheme}://${host}`);
        return;
      } catch (e) {
        first ??= e;
      }
    }
    if (first instanceof BerthError && first.message.startsWith('pinging ')) throw first;
    throw new BerthError(first instanceof BerthError ? first.code : 'IO', `pinging container registry ${this.registry}: ${(first as Error).message}`, {
      cause: first,
      temporary: first instanceof BerthError && first.temporary,
    });
  }

  /**
   * One authenticated request. A 401 is answered once: the new challenge is taken (with any wider
   * scope it names) and the request sent again, unless its body was a stream.
   */
  async request(method: string, path: string | URL, opts: RequestOptions = {}): Promise<HttpResponse> {
    await this.ping();
    const url = typeof path === 'string' ? new URL(path, this.base) : path;
    let scopes = opts.scopes ?? [];
    const attempt = async (): Promise<HttpResponse> => {
      const headers = { ...opts.headers };
      if (url.host === this.base!.host) {
        const a = await this.auth.authorization(scopes);
        if (a) headers['Authorization'] = a;
      }
      const body = opts.body ?? opts.stream;
      return send(this.agents, { method, url, headers, ...(body ? { body } : {}) });
    };
    const go = () => (opts.retry ? withRetry(this.retryPolicy, attempt) : attempt());
    let res = await go();
    if (res.status === 401 && !opts.stream) {
      const changed = this.auth.setChallenge(res.headers['www-authenticate']);
      const asked = (this.auth.scheme === 'bearer' ? parseScopeParam(res.headers['www-authenticate']) : []).filter((s) => !scopes.includes(s));
      if (changed || asked.length > 0 || this.auth.scheme === 'bearer') {
        res.body.resume();
        this.auth.invalidate(scopes);
        scopes = [...scopes, ...asked];
        res = await go();
      }
    }
    // Basic credentials answered with 401 were refused (a 403 would be a lack of access).
    if (res.status === 401 && this.auth.scheme === 'basic' && this.auth.hasCredentials()) res.credentialsRefused = true;
    return res;
  }

  /** Checks that the credentials work (login): `/v2/` with them; for Bearer, a token for no scope. */
  async checkAuth(): Promise<void> {
    const res = await this.request('GET', '/v2/', { retry: true });
    res.body.resume();
    if (res.status === 401) throw new BerthError('UNAUTHORIZED', `${this.auth.hasCredentials() ? 'invalid username/password' : 'authentication required'}`);
    if (res.status !== 200) throw await registryError(res, `checking credentials for ${this.registry}`);
  }

  /** A manifest or index by tag or digest, exact bytes; a digest reference is verified. */
  async getManifest(repository: string, reference: string): Promise<ManifestBlob> {
    const what = `reading manifest ${reference} in ${this.registry}/${repository}`;
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      scopes: [this.scope(repository)],
      headers: { Accept: MANIFEST_ACCEPT },
      retry: true,
    });
    if (res.status !== 200) throw await registryError(res, what);
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > MaxBytes.manifest) {
      res.body.destroy();
      throw tooLargeError(`${this.registry}/${repository}: manifest ${reference}`, declared, MaxBytes.manifest);
    }
    const bytes = await readBody(res, MaxBytes.manifest);
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    let digest: string;
    if (isDigest(reference)) {
      digest = reference;
      if (digestOf(bytes, parseDigest(reference).algorithm) !== reference)
        throw new BerthError('DIGEST_MISMATCH', `${what}: the manifest does not match its digest`);
    } else {
      digest = digestOf(bytes);
      const said = res.headers['docker-content-digest'];
      if (typeof said === 'string' && said.startsWith('sha256:') && said !== digest)
        throw new BerthError('DIGEST_MISMATCH', `${what}: the manifest does not match the digest the registry gave (${said})`);
    }
    return { bytes, mediaType, digest };
  }

  /** HEAD of a manifest: its digest and type, or undefined when the registry does not have it. */
  async headManifest(repository: string, reference: string): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scopes: [this.scope(repository)],
      headers: { Accept: MANIFEST_ACCEPT },
      retry: true,
    });
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await registryError(res, `checking manifest ${reference} in ${this.registry}/${repository}`);
    const d = res.headers['docker-content-digest'];
    return {
      ...(typeof d === 'string' ? { digest: d } : {}),
      mediaType: (res.headers['content-type'] ?? '').split(';')[0]!.trim(),
      size: Number(res.headers['content-length'] ?? 0),
    };
  }

  /** PUT of a manifest under a tag or its digest; gives the digest of the bytes sent. */
  async putManifest(repository: string, reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<string> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      scopes: [this.scope(repository, true)],
      headers: { 'Content-Type': manifest.mediaType },
      body: manifest.bytes,
      retry: true,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202)
      throw await registryError(res, `writing manifest to ${this.registry}/${repository}:${reference}`);
    res.body.resume();
    return digestOf(manifest.bytes);
  }

  /** DELETE of a manifest by digest. */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const res = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`, { scopes: [repositoryScope(repository, ['delete'])], retry: true });
    if (res.status !== 202 && res.status !== 200) throw await registryError(res, `deleting manifest ${digest} in ${this.registry}/${repository}`);
    res.body.resume();
  }

  /** Every tag of a repository, following `Link: <…>; rel="next"` pages. */
  async listTags(repository: string, pageSize?: number): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = new URL(`/v2/${repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`, await this.baseURL());
    for (let pages = 0; url && pages < 10000; pages++) {
      const res = await this.request('GET', url, { scopes: [this.scope(repository)], retry: true });
      if (res.status !== 200) throw await registryError(res, `listing tags of ${this.registry}/${repository}`);
      const doc = JSON.parse((await readBody(res)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(doc.tags ?? []));
      const link = res.headers.link;
      url = nextLink(Array.isArray(link) ? link.join(', ') : link, url);
    }
    return tags;
  }

  /** Every repository the registry's catalog lists (`search`), page by page, up to `limit` when given. */
  async listCatalog(limit?: number): Promise<string[]> {
    const names: string[] = [];
    let url: URL | undefined = new URL(`/v2/_catalog${limit ? `?n=${limit}` : ''}`, await this.baseURL());
    for (let pages = 0; url && pages < 10000 && (limit === undefined || names.length < limit); pages++) {
      const res = await this.request('GET', url, { scopes: ['registry:catalog:*'], retry: true });
      if (res.status !== 200) throw await registryError(res, `listing the repositories of ${this.registry}`);
      const doc = JSON.parse((await readBody(res)).toString('utf8')) as { repositories?: string[] | null };
      names.push(...(doc.repositories ?? []));
      const link = res.headers.link;
      url = nextLink(Array.isArray(link) ? link.join(', ') : link, url);
    }
    return limit === undefined ? names : names.slice(0, limit);
  }

  /** The registry's base URL (after the ping decided the scheme). */
  async baseURL(): Promise<URL> {
    await this.ping();
    return this.base!;
  }
}

function parseScopeParam(header: string | undefined): string[] {
  const m = header ? /scope="([^"]*)"/.exec(header) : null;
  return m ? m[1]!.split(' ').filter(Boolean) : [];
}
