// Where the S3 backend keeps things in its bucket, under the configured prefix. Everything a replica
// needs is here: no replica keeps state of its own, so any number of them serve one bucket.
//
// blobs/<alg>/<hex>                                      content, once per registry (visible only whole and verified)
// _used/<alg>/<hex>                                      empty; its time is when the blob was last written, linked or
//                                                        checked for a manifest (GC's grace counts from the later of the two)
// _deleting/<alg>/<hex>                                  empty; GC is removing the blob (see S3Blobs.delete)
// _ready/<uuid>                                          written and removed by a readiness check
// uploads/<id>/info                                      {"repository"}: the upload session exists
// uploads/<id>/data/<offset, 16 digits>                  the session's bytes from that offset, one object per append
// catalog/<name>                                         empty; the repository exists (the catalog is a listing of these)
// repositories/<name>/_layers/<alg>/<hex>                empty; the blob is linked into the repository
// repositories/<name>/_manifests/<alg>/<hex>             the manifest's exact bytes; metadata: its media type and subject
// repositories/<name>/_tags/<tag>                        the digest the tag points at
// repositories/<name>/_tagset                            a random id, rewritten after every change to the tags
//                                                        (so a replica's tags listing is checked by one HEAD)
// repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex> a referrer's descriptor (JSON), by subject
//
// Listing a prefix gives keys in byte order, which for repository names and tags is the code-unit order
// the API pages in; name components never start with "_", so a repository's own keys cannot clash with
// a nested repository's.
import { parseDigest } from '../../oci/digest.js';

const OFFSET_DIGITS = 16;

function digestPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}/${hex}`;
}

export const layout = {
  blobs: 'blobs/',
  blob: (digest: string) => `blobs/${digestPath(digest)}`,
  used: (digest: string) => `_used/${digestPath(digest)}`,
  usedAll: '_used/',
  deleting: (digest: string) => `_deleting/${digestPath(digest)}`,
  uploads: 'uploads/',
  upload: (id: string) => `uploads/${id}/`,
  uploadInfo: (id: string) => `uploads/${id}/info`,
  uploadData: (id: string) => `uploads/${id}/data/`,
  segment: (id: string, offset: number) => `uploads/${id}/data/${String(offset).padStart(OFFSET_DIGITS, '0')}`,
  catalog: 'catalog/',
  catalogEntry: (name: string) => `catalog/${name}`,
  repository: (name: string) => `repositories/${name}/`,
  link: (name: string, digest: string) => `repositories/${name}/_layers/${digestPath(digest)}`,
  links: (name: string) => `repositories/${name}/_layers/`,
  manifest: (name: string, digest: string) => `repositories/${name}/_manifests/${digestPath(digest)}`,
  manifests: (name: string) => `repositories/${name}/_manifests/`,
  tag: (name: string, tag: string) => `repositories/${name}/_tags/${tag}`,
  tags: (name: string) => `repositories/${name}/_tags/`,
  tagSet: (name: string) => `repositories/${name}/_tagset`,
  referrers: (name: string, subject: string) => `repositories/${name}/_referrers/${digestPath(subject)}/`,
  referrer: (name: string, subject: string, digest: string) => `repositories/${name}/_referrers/${digestPath(subject)}/${digest.replace(':', '-')}`,
};

/** The digest of a key ending in <alg>/<hex> under `under`. */
export function digestOfKey(key: string, under: string): string | undefined {
  const rest = key.slice(under.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || rest.indexOf('/', slash + 1) !== -1) return undefined;
  return `${rest.slice(0, slash)}:${rest.slice(slash + 1)}`;
}

/** The upload id and, for a data segment, its offset, of a key under uploads/. */
export function parseUploadKey(key: string): { id: string; offset?: number; info?: true } | undefined {
  const m = /^uploads\/([^/]+)\/(?:(info)|data\/(\d{16}))$/.exec(key);
  if (!m) return undefined;
  if (m[2]) return { id: m[1]!, info: true };
  return { id: m[1]!, offset: Number(m[3]) };
}
