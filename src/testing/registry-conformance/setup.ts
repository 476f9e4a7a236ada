// Shared state of the conformance mirror: the test content (as the distribution-spec suite builds it)
// and an HTTP client that sends exactly what it is told (GET with a body, Content-Length always set).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';

/** The repository every workflow uses, and the one blobs are mounted into. */
export const NAME = 'conformance/distribution-test';
export const CROSSMOUNT_NAME = `conformance-${randomUUID()}`;
export const TEST_TAG = 'tagtest0';
export const EMPTY_LAYER_TAG = 'emptylayer';
export const NONEXISTENT_MANIFEST = '.INVALID_MANIFEST_NAME';
export const INVALID_MANIFEST = Buffer.from('blablabla');
export const DUMMY_DIGEST = digestOf('hello world');
export const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
export const ARTIFACT_TYPE_A = 'application/vnd.nhl.peanut.butter.bagel';
export const ARTIFACT_TYPE_B = 'application/vnd.nba.strawberry.jam.croissant';
export const ARTIFACT_TYPE_INDEX = 'application/vnd.food.stand';

export const ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
];

export interface TestBlob {
  content: Buffer;
  digest: string;
}

function blob(content: Buffer | string): TestBlob {
  const b = Buffer.from(content);
  return { content: b, digest: digestOf(b) };
}

/** Go's json.MarshalIndent(v, "", "\t"): the suite's documents have tab-indented bytes, keys in struct order. */
function marshal(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v, null, '\t'));
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: string;
  /** A field image-spec does not define: the registry must store and serve it untouched (Go writes null when unset). */
  newUnspecifiedField: string | null;
}

function descriptor(mediaType: string, b: TestBlob, extra: Partial<Descriptor> = {}): Descriptor {
  const { newUnspecifiedField = null, ...rest } = extra;
  return { mediaType, digest: b.digest, size: b.content.length, ...rest, newUnspecifiedField };
}

// One config per workflow, unique per run (a random author), so no run sees another's blobs.
export const configs: TestBlob[] = [0, 1, 2, 3, 4].map(() =>
  blob(marshal({ author: randomBytes(12).toString('base64url'), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })),
);

/** A small gzip stream standing in for a layer: the registry never looks inside. */
export const layer = blob(gzipSync(Buffer.from('you found the conformance layer\n')));

function configDescriptor(config: TestBlob): Descriptor {
  return descriptor(MediaType.OciConfig, config, {
    data: config.content.toString('base64'),
    newUnspecifiedField: Buffer.from('hello world').toString('base64'),
  });
}

export const manifests: TestBlob[] = configs.map((config) =>
  blob(marshal({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor(config), layers: [descriptor(MediaType.OciLayerGzip, layer)] })),
);

/** An image manifest with no layers and no mediaType field (push workflow). */
export const emptyLayerManifest = blob(marshal({ schemaVersion: 2, config: configDescriptor(configs[1]!), layers: [] }));

// Blobs of the push workflow: A goes up streamed, B in two chunks.
export const blobA = blob(randomBytes(42));
export const blobB = blob(randomBytes(42));
export const blobBChunk1 = blobB.content.subarray(0, 22);
export const blobBChunk2 = blobB.content.subarray(22);
export const blobBChunk1Range = `0-${blobBChunk1.length - 1}`;
export const blobBChunk2Range = `${blobBChunk1.length}-${blobB.content.length - 1}`;

// The referrers of the discovery workflow, all (but C) about manifests[4].
export const emptyJSON = blob('{}');
export const refBlobA = blob('NHL Peanut Butter on my NHL bagel');
export const refBlobB = blob('NBA Strawberry Jam on my NBA croissant');
const subject4 = descriptor(MediaType.OciManifest, manifests[4]!);
const emptyJSONDescriptor = descriptor(MediaType.OciEmpty, emptyJSON);

export const annotationValues = new Map<string, string>();
function referrer(doc: Record<string, unknown>, annotation?: string): TestBlob {
  const b = blob(marshal(annotation === undefined ? doc : { ...doc, annotations: { [ANNOTATION_KEY]: annotation } }));
  if (annotation !== undefined) annotationValues.set(b.digest, annotation);
  return b;
}

/** Artifact type in config.mediaType. */
export const refsManifestAConfigArtifact = referrer(
  { schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor(ARTIFACT_TYPE_A, refBlobA), layers: [emptyJSONDescriptor], subject: subject4 },
  'test config a',
);
export const refsManifestBConfigArtifact = referrer(
  { schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor(ARTIFACT_TYPE_B, refBlobB), layers: [emptyJSONDescriptor], subject: subject4 },
  'test config b',
);
/** Artifact type in artifactType, the config the empty JSON. */
export const refsManifestALayerArtifact = referrer(
  {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: ARTIFACT_TYPE_A,
    config: emptyJSONDescriptor,
    layers: [descriptor(ARTIFACT_TYPE_A, refBlobA)],
    subject: subject4,
  },
  'test layer a',
);
export const refsManifestBLayerArtifact = referrer(
  {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: ARTIFACT_TYPE_B,
    config: emptyJSONDescriptor,
    layers: [descriptor(ARTIFACT_TYPE_B, refBlobB)],
    subject: subject4,
  },
  'test layer b',
);
/** As B, about manifests[3], which is not in the registry when this is pushed. */
export const refsManifestCLayerArtifact = referrer({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  artifactType: ARTIFACT_TYPE_B,
  config: emptyJSONDescriptor,
  layers: [descriptor(ARTIFACT_TYPE_B, refBlobB)],
  subject: descriptor(MediaType.OciManifest, manifests[3]!),
});
/** An index with a subject, over the two A artifacts. */
export const refsIndexArtifact = referrer(
  {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    artifactType: ARTIFACT_TYPE_INDEX,
    manifests: [descriptor(MediaType.OciManifest, refsManifestAConfigArtifact), descriptor(MediaType.OciManifest, refsManifestALayerArtifact)],
    subject: subject4,
  },
  'test index',
);

/** The Go suite's settings that change which requests are made (OCI_DELETE_MANIFEST_BEFORE_BLOBS). */
export interface WorkflowOptions {
  deleteManifestBeforeBlobs: boolean;
}

// ---- the client ----

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  header(name: string): string;
  json<T = unknown>(): T;
}

let baseUrl = '';
export function setBaseUrl(url: string): void {
  baseUrl = url;
}

export interface SendOptions {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked and no Content-Length, as Go does for a body of unknown length. */
  chunked?: boolean;
}

/** A request to `path` (which may carry a query already); Content-Length is the body's, as Go's client sends it. */
export function send(method: string, path: string, opts: SendOptions = {}): Promise<Reply> {
  const url = new URL(path, baseUrl);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const headers: Record<string, string> = { 'User-Agent': 'berth-conformance', ...opts.headers };
  delete headers['Content-Length'];
  if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
  else if (body !== undefined || ['POST', 'PUT', 'PATCH'].includes(method)) headers['Content-Length'] = String(body?.length ?? 0);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: data,
          header: (n) => {
            const v = res.headers[n.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : (v ?? '');
          },
          json: <T>() => JSON.parse(data.toString()) as T,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Location header as a path with its query (reggie's GetRelativeLocation). */
export function relativeLocation(r: Reply): string {
  const loc = r.header('location');
  if (loc === '') return '';
  const u = new URL(loc, 'http://location.invalid');
  return u.pathname + u.search;
}

// ---- assertions the Go suite repeats ----

export function assert2xx(r: Reply, message?: string): void {
  assert.ok(r.status >= 200 && r.status < 300, message ?? `expected 2xx, got ${r.status} ${r.body.toString()}`);
}

export function assertStatus(r: Reply, allowed: (number | '2xx')[]): void {
  const ok = allowed.some((a) => (a === '2xx' ? r.status >= 200 && r.status < 300 : r.status === a));
  assert.ok(ok, `expected one of ${allowed.join(', ')}, got ${r.status} ${r.body.toString()}`);
}

/** The spec's error body: a non-empty `errors` list whose first code is one of the spec's codes; that code. */
export function assertErrorBody(r: Reply): string {
  const body = r.json<{ errors?: { code: string }[] }>();
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `no errors in ${r.body.toString()}`);
  assert.ok(ERROR_CODES.includes(body.errors[0]!.code), `unknown error code ${body.errors[0]!.code}`);
  return body.errors[0]!.code;
}

export function tagsOf(r: Reply): string[] {
  try {
    return r.json<{ tags?: string[] | null }>().tags ?? [];
  } catch {
    return [];
  }
}

/** POST then PUT ?digest= with the whole blob: how every workflow's setup puts content in. */
export async function pushBlob(b: TestBlob, name = NAME): Promise<Reply> {
  const start = await send('POST', `/v2/${name}/blobs/uploads/`);
  return send('PUT', relativeLocation(start), {
    query: { digest: b.digest },
    headers: { 'Content-Type': 'application/octet-stream' },
    body: b.content,
  });
}

export function putManifest(ref: string, b: TestBlob, mediaType: string = MediaType.OciManifest): Promise<Reply> {
  return send('PUT', `/v2/${NAME}/manifests/${ref}`, { headers: { 'Content-Type': mediaType }, body: b.content });
}
