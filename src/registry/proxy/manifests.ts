// Manifests and tag lists of a pull-through cache. A tag is served from the storage while it was
// fetched less than the ttl ago; after that the upstream is asked again (a HEAD first: a digest already
// held costs no GET, which is what rate limits count). When the upstream is down or refuses with 429/5xx,
// a tag held is served as it is, with a warning. A manifest by digest never changes: once stored it is
// only read. Manifests are kept as the exact bytes the upstream sent, checked against their digest.
import { digestOf, parseDigest } from '../../oci/digest.js';
import { parseManifest } from '../../oci/manifest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { RegistryError } from '../errors.js';
import { checkDigest, parseReference } from '../names.js';
import { json, type Handler } from '../routes/_http.js';
import { listTags } from '../routes/listing.js';
import { getManifest, referrerDescriptor } from '../routes/manifests.js';
import type { RegistryStorage } from '../storage/types.js';
import type { SingleFlight } from './_single-flight.js';
import { isUpstreamDown, readBody, unreachable, upstreamError, type Upstream, type UpstreamResponse } from './upstream.js';

/** What a proxy asks the upstream for: every manifest format berth serves (not schema 1). */
const ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList].join(', ');
/** Largest tag list taken from the upstream. */
const TAGS_BYTES = 16 << 20;

function unknownManifest(name: string, ref: string): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', `manifest ${ref} is unknown to repository ${name}`, { detail: { name, reference: ref } });
}

export class ManifestFetcher {
  /** When each `name:tag` was last confirmed upstream (ms since the epoch); a restart refreshes every tag once. */
  private readonly confirmed = new Map<string, number>();

  constructor(
    private readonly storage: RegistryStorage,
    private readonly upstream: Upstream,
    private readonly flights: SingleFlight,
    private readonly ttlMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** Makes the storage hold `name:tag` as fresh as the ttl asks, or as it was when the upstream is down. */
  async ensureTag(name: string, tag: string, maxBytes: number): Promise<void> {
    const key = `${name}:${tag}`;
    const held = await this.storage.tags.get(name, tag);
    if (held !== undefined && Date.now() - (this.confirmed.get(key) ?? -Infinity) < this.ttlMs) return;
    try {
      await this.flights.run(`tag ${key}`, () => this.refreshTag(name, tag, maxBytes)).result;
    } catch (e) {
      if (held === undefined || !isUpstreamDown(e)) throw e;
      this.warn(`serving ${key} from the cache: ${(e as Error).message}`);
    }
  }

  /** Makes the storage hold the manifest `digest` of `name`. */
  async ensureDigest(name: string, digest: string, maxBytes: number): Promise<void> {
    if (await this.storage.manifests.stat(name, digest)) return;
    const task = async () => {
      // Checked again: a fetch that ended between the check above and this run has stored it.
      if (!(await this.storage.manifests.stat(name, digest))) await this.fetch(name, digest, maxBytes);
    };
    await this.flights.run(`manifest ${name}@${digest}`, task).result;
  }

  private async refreshTag(name: string, tag: string, maxBytes: number): Promise<void> {
    const key = `${name}:${tag}`;
    if ((await this.storage.tags.get(name, tag)) !== undefined) {
      const head = await this.ask('HEAD', name, tag);
      head.body.resume();
      if (head.status !== 200) throw await upstreamError(this.upstream.origin, head, unknownManifest(name, tag));
      const digest = validDigest(head.headers['docker-content-digest']);
      if (digest !== undefined && (await this.storage.manifests.stat(name, digest))) {
        await this.storage.tags.set(name, tag, digest);
        this.confirmed.set(key, Date.now());
        return;
      }
    }
    const digest = await this.fetch(name, tag, maxBytes);
    await this.storage.tags.set(name, tag, digest);
    this.confirmed.set(key, Date.now());
  }

  /** GETs the manifest `ref` (a tag or digest) from the upstream and stores it; its digest. */
  private async fetch(name: string, ref: string, maxBytes: number): Promise<string> {
    const origin = this.upstream.origin;
    const res = await this.ask('GET', name, ref);
    if (res.status !== 200) throw await upstreamError(origin, res, unknownManifest(name, ref));
    const bad = (why: string) => new RegistryError('UNAVAILABLE', `upstream ${origin} sent ${name}:${ref}: ${why}`);
    let bytes: Buffer;
    try {
      bytes = await readBody(res, maxBytes);
    } catch (e) {
      throw unreachable(`upstream ${origin} (while sending manifest ${name}:${ref})`, e);
    }
    const expected = ref.includes(':') ? ref : validDigest(res.headers['docker-content-digest']);
    const digest = digestOf(bytes, expected === undefined ? 'sha256' : parseDigest(expected).algorithm);
    if (expected !== undefined && digest !== expected) throw bad(`a manifest whose digest is ${digest}, not ${expected}`);
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(bytes, res.headers['content-type']);
    } catch (e) {
      throw bad((e as Error).message);
    }
    const doc = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
    const artifactType = doc.artifactType ?? (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
    const stored = { digest, mediaType: parsed.mediaType, size: bytes.length };
    await this.storage.manifests.put(name, bytes, parsed.mediaType, {
      digest,
      ...(doc.subject ? { referrer: { subject: doc.subject.digest, descriptor: referrerDescriptor(stored, artifactType, doc.annotations) } } : {}),
    });
    return digest;
  }

  private async ask(method: 'GET' | 'HEAD', name: string, ref: string): Promise<UpstreamResponse> {
    try {
      return await this.upstream.request(method, name, `${name}/manifests/${ref}`, { Accept: ACCEPT });
    } catch (e) {
      throw unreachable(`upstream ${this.upstream.origin}`, e);
    }
  }
}

function validDigest(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return checkDigest(header.trim());
  } catch {
    return undefined;
  }
}

export function proxyGetManifest(fetcher: ManifestFetcher): Handler {
  return async (c, r) => {
    const ref = parseReference(r.target.ref!, 'MANIFEST_UNKNOWN');
    if (ref.kind === 'tag') await fetcher.ensureTag(r.target.name, ref.tag, r.limits.manifestBytes);
    else await fetcher.ensureDigest(r.target.name, ref.digest, r.limits.manifestBytes);
    return getManifest(c, r);
  };
}

/** The upstream's tag list (paged as asked); the storage's when the upstream is down. */
export function proxyListTags(upstream: Upstream, warn: (message: string) => void): Handler {
  return async (c, r) => {
    const name = r.target.name;
    const query = new URL(c.req.url).search;
    let res: UpstreamResponse;
    try {
      res = await upstream.request('GET', name, `${name}/tags/list${query}`);
    } catch (e) {
      warn(`listing the cached tags of ${name}: ${unreachable(`upstream ${upstream.origin}`, e).message}`);
      return listTags(c, r);
    }
    if (res.status !== 200) {
      const e = await upstreamError(
        upstream.origin,
        res,
        new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to the registry`, { detail: { name } }),
      );
      if (!isUpstreamDown(e)) throw e;
      warn(`listing the cached tags of ${name}: ${e.message}`);
      return listTags(c, r);
    }
    let list: { name?: unknown; tags?: unknown };
    try {
      list = JSON.parse((await readBody(res, TAGS_BYTES)).toString('utf8')) as typeof list;
    } catch (e) {
      throw new RegistryError('UNAVAILABLE', `upstream ${upstream.origin} sent no usable tag list for ${name}: ${(e as Error).message}`);
    }
    const tags = Array.isArray(list.tags) ? list.tags.filter((t): t is string => typeof t === 'string') : [];
    // A next page's link is kept when it is a path (as distribution writes it), which then names this registry.
    const link = res.headers.link;
    return json(200, { name, tags }, typeof link === 'string' && link.startsWith('</v2/') ? { Link: link } : {});
  };
}
